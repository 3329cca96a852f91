// moondream-ggml serve: the OpenAI- and Ollama-compatible HTTP server. Request logs go to stderr.
import { createServer } from '../server/create-server.js';
import { integerOption, parseArgs, UsageError } from './args.js';
import { resolveCliModel } from './model-source.js';

export const SERVE_HELP = `Usage: moondream-ggml serve [options]

Serves the model over HTTP: OpenAI's POST /v1/chat/completions and GET /v1/models, Ollama's
POST /api/generate, POST /api/chat and GET /api/tags, GET /health and GET /metrics (Prometheus).

Options:
  --model <dir>              A folder with the GGUF pair (default: the pulled model)
  --host <addr>              Address to bind (default 127.0.0.1: this machine only)
  --port <n>                 Port (default 8080; 0 picks a free one)
  --parallel <n>             Requests answered at once (default: 2 to 4 by cores, fewer if memory is short)
  --max-queue <n>            Requests that may wait; beyond it 503 + Retry-After (default 64)
  --api-key <key>            Require Authorization: Bearer <key> on every route but /health
                             (also MOONDREAM_API_KEY)
  --threads <n>              Compute threads (default: physical cores)
  --model-name <name>        Model name in /v1/models and /api/tags (default moondream1)
  --allow-remote-images      Fetch http(s) image URLs (off: callers could make the server fetch any URL)
  --media-dir <dir>          Allow file:// image URLs under this folder only
  --body-limit <bytes>       Largest request body (default 20971520)
  --max-image-pixels <n>     Largest image width x height, checked before decoding (default 50000000)
  --image-cache <n>          Encoded images kept by content hash (default 32)
  --shutdown-timeout <s>     On SIGTERM/SIGINT, seconds running requests may take to finish (default 30)
  --headers-timeout <s>      Seconds a client has to send its request headers (default 10)
  --log-format <text|json>   One line per request on stderr (default text)
  -h, --help                 Show this help
`;

const VALUE_OPTIONS = [
  '--model', '--host', '--port', '--parallel', '--max-queue', '--api-key', '--threads', '--model-name', '--media-dir', '--body-limit',
  '--max-image-pixels', '--image-cache', '--shutdown-timeout', '--headers-timeout', '--log-format',
] as const;

export async function runServe(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, VALUE_OPTIONS, ['--help', '--allow-remote-images']);
  if (args.flags.has('--help')) {
    process.stdout.write(SERVE_HELP);
    return 0;
  }
  if (args.positionals.length > 0) throw new UsageError(`serve takes no positional arguments, got "${args.positionals[0]}"`);
  const logFormat = args.values.get('--log-format') ?? 'text';
  if (logFormat !== 'text' && logFormat !== 'json') throw new UsageError(`--log-format must be text or json, not "${logFormat}"`);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const loading = new AbortController();
  const model = await resolveCliModel(args.values.get('--model'), loading.signal);
  const optional = <T>(value: T | undefined, key: string) => (value === undefined ? {} : { [key]: value });
  const apiKey = args.values.get('--api-key') ?? (process.env.MOONDREAM_API_KEY || undefined);
  const shutdownS = integerOption(args, '--shutdown-timeout', 0, 86400);
  const headersS = integerOption(args, '--headers-timeout', 1, 3600);
  const server = createServer({
    model,
    logFormat,
    log,
    ...optional(args.values.get('--host'), 'host'),
    ...optional(integerOption(args, '--port', 0, 65535), 'port'),
    ...optional(integerOption(args, '--parallel', 1, 256), 'parallel'),
    ...optional(integerOption(args, '--max-queue', 0, 1 << 20), 'maxQueue'),
    ...optional(apiKey, 'apiKey'),
    ...optional(integerOption(args, '--threads', 1, 1024), 'threads'),
    ...optional(args.values.get('--model-name'), 'modelName'),
    ...(args.flags.has('--allow-remote-images') ? { allowRemoteImages: true } : {}),
    ...optional(args.values.get('--media-dir'), 'mediaDir'),
    ...optional(integerOption(args, '--body-limit', 1024, 1 << 30), 'bodyLimit'),
    ...optional(integerOption(args, '--max-image-pixels', 1, Number.MAX_SAFE_INTEGER), 'maxImagePixels'),
    ...optional(integerOption(args, '--image-cache', 0, 1 << 16), 'imageCacheSize'),
    ...optional(shutdownS === undefined ? undefined : shutdownS * 1000, 'shutdownTimeout'),
    ...optional(headersS === undefined ? undefined : headersS * 1000, 'headersTimeout'),
  });

  let signals = 0;
  const stopped = new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      if (++signals > 1) {
        log(`moondream-ggml serve: ${signal} again, exiting now`);
        process.exit(130);
      }
      log(`moondream-ggml serve: ${signal}: no new requests; letting running ones finish`);
      server.close().then(resolve, (error: unknown) => {
        log(`moondream-ggml serve: error while closing: ${String(error)}`);
        resolve();
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  await server.listen();
  server.loaded.then(() => log('moondream-ggml serve: model loaded, ready'), () => undefined);
  await stopped;
  log('moondream-ggml serve: stopped');
  return 0;
}
