// moondream-ggml batch: the same questions about many images, into a JSONL file that a rerun
// resumes. With --queue, the work goes to `worker` processes through BullMQ on Redis instead.
import { batchQuestions } from '../batch/options.js';
import { batchBar } from '../batch/progress-bar.js';
import type { BatchProgress } from '../batch/options.js';
import { MoondreamError } from '../errors.js';
import { Moondream } from '../moondream.js';
import { integerOption, parseArgs, UsageError, type ParsedArgs } from './args.js';
import { resolveCliModel } from './model-source.js';
import { abortOnSigint } from './run-options.js';
import { runProducer, showStatus } from './batch-queue.js';
import { printSummary } from './batch-summary.js';

export const BATCH_HELP = `Usage: moondream-ggml batch <dir|glob|list.txt>... (--caption | --question <q>...) --out <file.jsonl> [options]

Asks the same questions about every image: folders are walked recursively (links followed, each
folder once), a quoted glob ('photos/**/*.jpg') matches files, a .txt file lists paths (one a
line, relative to the list). Images are recognised by content; other files become error lines.
Each (file, question) gets one JSON line in the output:
  { path, sha256, question, answer, tokens, timings }  or  { path, sha256?, question, error }
A rerun with the same --out skips what it already holds; identical files are answered once.

Options:
  --question <q>          A question to ask about every image (repeat for more)
  --caption               Ask for a description (the model's caption question)
  --out <file>            The JSONL output (appended to; required)
  --no-resume             Empty the output first instead of skipping what it holds
  --model <dir>           A folder with the GGUF pair (default: the pulled model)
  --threads <n>           Compute threads (default: physical cores)
  --max-tokens <n>        New tokens at most per answer (default: the model's, 256)
  --json                  Print the summary as JSON on stdout
  -h, --help              Show this help

Many machines (BullMQ on Redis; run \`moondream-ggml worker --queue <url>\` anywhere):
  --queue <redis-url>     Enqueue the work for workers and collect their results into --out
  --job <name>            The batch's name in the queue (letters, digits, _ and -)
  --send-images           Send each image's bytes with its job (workers need no shared files),
                          up to --send-limit MB; otherwise workers read the same absolute paths
  --send-limit <MB>       Largest image sent by content (default 32)
  --status                Show the progress of --job on --queue and exit

Ctrl-C stops within a second; the output stays valid and a rerun continues.
`;

const VALUE_OPTIONS = ['--question', '--out', '--model', '--threads', '--max-tokens', '--queue', '--job', '--send-limit'];
const FLAG_OPTIONS = ['--caption', '--no-resume', '--json', '--help', '--send-images', '--status'];

export async function runBatchCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, VALUE_OPTIONS, FLAG_OPTIONS);
  if (args.flags.has('--help')) {
    process.stdout.write(BATCH_HELP);
    return 0;
  }
  const queue = args.values.get('--queue');
  if (args.flags.has('--status')) {
    if (!queue || !args.values.get('--job')) throw new UsageError('--status needs --queue and --job');
    return showStatus(queue, args.values.get('--job')!, args.flags.has('--json'));
  }
  if (args.positionals.length === 0) throw new UsageError('batch needs at least one folder, glob or list file');
  const out = args.values.get('--out');
  if (!out) throw new UsageError('batch needs --out <file.jsonl>');
  if (!args.lists.has('--question') && !args.flags.has('--caption')) throw new UsageError('batch needs --caption or --question');
  if (queue) return runProducer(args, queue, out);
  for (const name of ['--job', '--send-images', '--send-limit']) {
    if (args.values.has(name) || args.flags.has(name)) throw new UsageError(`${name} needs --queue`);
  }
  return runLocal(args, out);
}

async function runLocal(args: ParsedArgs, out: string): Promise<number> {
  const threads = integerOption(args, '--threads', 1, 1024);
  const maxTokens = integerOption(args, '--max-tokens', 0, 2048);
  const interrupt = abortOnSigint();
  const bar = batchBar('batch');
  let last: BatchProgress | undefined;
  try {
    const model = await resolveCliModel(args.values.get('--model'), interrupt.signal);
    const md = await Moondream.load(model, threads === undefined ? {} : { threads });
    try {
      const questions = batchQuestions(args.lists.get('--question'), args.flags.has('--caption'), md.info.prompt.captionQuestion);
      const run = md.batch(args.positionals, {
        questions,
        out,
        resume: !args.flags.has('--no-resume'),
        signal: interrupt.signal,
        ...(maxTokens !== undefined ? { maxTokens } : {}),
        onProgress: (p) => {
          last = p;
          bar.update(p);
        },
      });
      let step = await run.next();
      while (!step.done) step = await run.next();
      bar.stop();
      printSummary(step.value, args.flags.has('--json'));
      return 0;
    } finally {
      md.dispose();
    }
  } catch (error) {
    bar.stop();
    if (error instanceof MoondreamError && error.code === 'ERR_ABORTED') {
      if (last) {
        printSummary({
          images: last.total, answered: last.answered, failed: last.failed, skipped: last.skipped,
          wallMs: last.elapsedMs, imagesPerMinute: last.imagesPerMinute, interrupted: true,
        }, args.flags.has('--json'));
      }
      return 130;
    }
    throw error;
  } finally {
    interrupt.dispose();
  }
}
