// batch --queue: the producer of a distributed batch (its progress bar and summary as on one
// machine), and batch --status.
import { MOONDREAM1_PROMPT } from '../convert/profile.js';
import { MoondreamError } from '../errors.js';
import { batchInputs, batchQuestions } from '../batch/options.js';
import type { BatchProgress } from '../batch/options.js';
import { batchBar } from '../batch/progress-bar.js';
import { connectQueue } from '../batch/queue/connection.js';
import { checkBatchName } from '../batch/queue/names.js';
import { produceBatch } from '../batch/queue/producer.js';
import { formatBatchStatus, readBatchStatus } from '../batch/queue/status.js';
import { integerOption, UsageError, type ParsedArgs } from './args.js';
import { printSummary } from './batch-summary.js';
import { abortOnSigint } from './run-options.js';


export async function runProducer(args: ParsedArgs, url: string, out: string): Promise<number> {
  const job = args.values.get('--job');
  if (!job) throw new UsageError('--queue needs --job <name>');
  const name = checkBatchName(job);
  for (const local of ['--model', '--threads']) if (args.values.has(local)) throw new UsageError(`${local} is for workers; the producer loads no model`);
  const sendLimitMb = integerOption(args, '--send-limit', 1, 512) ?? 32;
  const maxTokens = integerOption(args, '--max-tokens', 0, 2048);
  // The producer loads no model: --caption is moondream1's caption question, which workers answer
  // like any other (so results stay keyed by the question's text).
  const questions = batchQuestions(args.lists.get('--question'), args.flags.has('--caption'), MOONDREAM1_PROMPT.captionQuestion);
  const interrupt = abortOnSigint();
  const bar = batchBar(`batch ${name}`);
  let last: BatchProgress | undefined;
  try {
    const connection = await connectQueue(url);
    const summary = await produceBatch({
      connection, name, inputs: batchInputs(args.positionals), questions, out,
      resume: !args.flags.has('--no-resume'), maxTokens,
      sendImages: args.flags.has('--send-images'), sendLimitBytes: sendLimitMb * 1024 * 1024,
      signal: interrupt.signal,
      onProgress: (p) => {
        last = p;
        bar.update(p);
      },
    });
    bar.stop();
    printSummary(summary, args.flags.has('--json'));
    return 0;
  } catch (error) {
    bar.stop();
    if (error instanceof MoondreamError && error.code === 'ERR_ABORTED') {
      if (last) printSummary({ ...summaryOf(last), interrupted: true }, args.flags.has('--json'));
      process.stderr.write('The queued jobs stay in Redis; run the same command again to keep collecting.\n');
      return 130;
    }
    throw error;
  } finally {
    interrupt.dispose();
  }
}

function summaryOf(p: BatchProgress) {
  return { images: p.total, answered: p.answered, failed: p.failed, skipped: p.skipped, wallMs: p.elapsedMs, imagesPerMinute: p.imagesPerMinute };
}

export async function showStatus(url: string, job: string, json: boolean): Promise<number> {
  const connection = await connectQueue(url);
  const status = await readBatchStatus(connection, checkBatchName(job));
  process.stdout.write(json ? `${JSON.stringify(status)}\n` : `${formatBatchStatus(status)}\n`);
  return status.known ? 0 : 1;
}
