// moondream-ggml worker: answers batch jobs from a BullMQ queue on Redis until stopped. Any number
// of workers on any number of machines serve one queue; each loads its own model.
import { connectQueue, redactUrl } from '../batch/queue/connection.js';
import { startBatchWorker } from '../batch/queue/worker.js';
import { Moondream } from '../moondream.js';
import { integerOption, parseArgs, UsageError } from './args.js';
import { resolveCliModel } from './model-source.js';

export const WORKER_HELP = `Usage: moondream-ggml worker --queue <redis-url> [options]

Takes jobs queued by \`moondream-ggml batch --queue <redis-url> --job <name>\` and answers them
until stopped. Start as many as you like, on as many machines; each loads its own model. Images
come by content (the producer's --send-images) or by absolute path, which must then name the same
file on this machine (shared storage).

On SIGTERM or Ctrl-C the worker takes no new job, finishes the ones it holds and exits; a second
signal returns them to the queue unfinished. A worker that dies holding a job (SIGKILL, power
loss) has it taken back by another worker after --lock-duration.

Options:
  --queue <redis-url>     The Redis server, e.g. redis://host:6379/0 (required)
  --model <dir>           A folder with the GGUF pair (default: the pulled model; pulled on first use)
  --threads <n>           Compute threads (default: physical cores). Several workers on one
                          machine should split the cores between them, not each take them all
  --lock-duration <ms>    How long a dead worker's job stays locked (default 30000)
  --verbose               Log each job's start and end on stderr
  -h, --help              Show this help
`;

export async function runWorker(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, ['--queue', '--model', '--threads', '--lock-duration'], ['--verbose', '--help']);
  if (args.flags.has('--help')) {
    process.stdout.write(WORKER_HELP);
    return 0;
  }
  if (args.positionals.length > 0) throw new UsageError(`worker takes no arguments, got "${args.positionals[0]}"`);
  const url = args.values.get('--queue');
  if (!url) throw new UsageError('worker needs --queue <redis-url>');
  const threads = integerOption(args, '--threads', 1, 1024);
  const lockDurationMs = integerOption(args, '--lock-duration', 1000, 24 * 3600 * 1000);
  const verbose = args.flags.has('--verbose');

  let signals = 0;
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => { stop = resolve; });
  let abortJobs: () => void = () => undefined;
  const loading = new AbortController();
  const onSignal = () => {
    signals += 1;
    if (signals === 1) {
      process.stderr.write('worker: stopping after the jobs it holds (signal again to return them unfinished)\n');
      loading.abort();
      stop();
    } else if (signals === 2) {
      process.stderr.write('worker: returning its jobs to the queue\n');
      abortJobs();
    } else {
      process.exit(130);
    }
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    const connection = await connectQueue(url);
    const model = await resolveCliModel(args.values.get('--model'), loading.signal);
    const md = await Moondream.load(model, threads === undefined ? {} : { threads });
    try {
      if (signals > 0) return 0;
      const worker = await startBatchWorker(md, {
        connection,
        ...(lockDurationMs !== undefined ? { lockDurationMs } : {}),
        onLog: (line) => { if (verbose || !line.startsWith('job ') || line.includes(' failed: ')) process.stderr.write(`worker ${process.pid}: ${line}\n`); },
      });
      abortJobs = () => worker.abortJobs();
      process.stderr.write(`worker ${worker.id}: ready on ${redactUrl(url)} with ${md.info.threads} threads\n`);
      await stopped;
      await worker.close();
      process.stderr.write(`worker ${worker.id}: stopped\n`);
      return 0;
    } finally {
      md.dispose();
    }
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
