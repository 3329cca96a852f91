// Options shared by ask, caption and chat.
import type { LoadOptions } from '../api-types.js';
import { integerOption, type ParsedArgs, UsageError } from './args.js';

export const RUN_VALUE_OPTIONS = ['--model', '--threads', '--max-tokens', '--temperature', '--seed'] as const;
export const RUN_FLAG_OPTIONS = ['--json', '--help'] as const;

export const RUN_OPTIONS_HELP = `  --model <dir>           A folder with the GGUF pair (default: the pulled model; pulled on first use)
  --threads <n>           Compute threads (default: physical cores)
  --max-tokens <n>        New tokens at most (default: the model's, 256)
  --temperature <t>       0 (default) is greedy, as moondream1 answers
  --seed <n>              Sampling seed (with --temperature > 0)
  --json                  Print { answer, tokens, timings } as JSON instead of streaming text
  -h, --help              Show this help`;

export interface RunOptions {
  model: string | undefined;
  load: LoadOptions;
  maxTokens: number | undefined;
  temperature: number | undefined;
  seed: number | undefined;
  json: boolean;
}

export function runOptions(args: ParsedArgs): RunOptions {
  const threads = integerOption(args, '--threads', 1, 1024);
  const raw = args.values.get('--temperature');
  const temperature = raw === undefined ? undefined : Number(raw);
  if (temperature !== undefined && !(Number.isFinite(temperature) && temperature >= 0 && temperature <= 100)) {
    throw new UsageError(`--temperature must be a number from 0 to 100, not "${raw}"`);
  }
  return {
    model: args.values.get('--model'),
    load: threads === undefined ? {} : { threads },
    maxTokens: integerOption(args, '--max-tokens', 0, 2048),
    temperature,
    seed: integerOption(args, '--seed', 0, Number.MAX_SAFE_INTEGER),
    json: args.flags.has('--json'),
  };
}

/** Ctrl-C aborts the running work cleanly; a second Ctrl-C exits at once. */
export function abortOnSigint(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('\nAborting... (Ctrl-C again to quit now)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', onSigint) };
}
