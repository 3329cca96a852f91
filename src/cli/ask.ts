// moondream-ggml ask <image> <question> / caption <image>: the answer streams to stdout as it is
// generated; progress and timings go to stderr.
import { performance } from 'node:perf_hooks';
import { Moondream } from '../moondream.js';
import { parseArgs, UsageError } from './args.js';
import { toJson } from './json.js';
import { resolveCliModel } from './model-source.js';
import { abortOnSigint, RUN_FLAG_OPTIONS, RUN_OPTIONS_HELP, RUN_VALUE_OPTIONS, runOptions } from './run-options.js';

export const ASK_HELP = `Usage: moondream-ggml ask <image> <question> [options]

Answers a question about an image (JPEG, PNG, WebP, GIF, AVIF, TIFF), streaming the answer.

Options:
${RUN_OPTIONS_HELP}
`;

export const CAPTION_HELP = `Usage: moondream-ggml caption <image> [options]

Describes an image, streaming the description.

Options:
${RUN_OPTIONS_HELP}
`;

export async function runAsk(argv: readonly string[], mode: 'ask' | 'caption'): Promise<number> {
  const args = parseArgs(argv, RUN_VALUE_OPTIONS, RUN_FLAG_OPTIONS);
  if (args.flags.has('--help')) {
    process.stdout.write(mode === 'ask' ? ASK_HELP : CAPTION_HELP);
    return 0;
  }
  const expected = mode === 'ask' ? 2 : 1;
  if (args.positionals.length !== expected) {
    throw new UsageError(mode === 'ask' ? 'ask needs an image and a question' : 'caption needs an image');
  }
  const [imagePath, questionArg] = args.positionals as [string, string | undefined];
  const options = runOptions(args);
  const interrupt = abortOnSigint();
  try {
    const started = performance.now();
    const model = await resolveCliModel(options.model, interrupt.signal);
    const md = await Moondream.load(model, options.load);
    try {
      const loaded = performance.now();
      const image = await md.encodeImage(imagePath, { signal: interrupt.signal });
      const question = questionArg ?? md.info.prompt.captionQuestion;
      const answer = await md.answer(image, question, {
        signal: interrupt.signal,
        ...(options.maxTokens !== undefined ? { maxTokens: options.maxTokens } : {}),
        ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
        ...(options.seed !== undefined ? { seed: options.seed } : {}),
        ...(options.json ? {} : { onPiece: (piece: string) => process.stdout.write(piece) }),
      });
      const timings = {
        loadMs: loaded - started,
        preprocessMs: image.timings.preprocessMs,
        encodeMs: image.timings.encodeMs,
        prefillMs: answer.timings.prefillMs,
        decodeMs: answer.timings.decodeMs,
        tokensPerSecond: answer.timings.tokensPerSecond,
        totalMs: performance.now() - started,
      };
      if (options.json) {
        process.stdout.write(`${toJson({ answer: answer.text, tokens: answer.tokens, question, timings })}\n`);
      } else {
        process.stdout.write('\n');
        process.stderr.write(`[load ${(timings.loadMs / 1000).toFixed(1)} s, encode ${(timings.encodeMs / 1000).toFixed(1)} s, ` +
          `prefill ${(timings.prefillMs / 1000).toFixed(1)} s, ${answer.tokens.length} tokens at ${timings.tokensPerSecond.toFixed(1)} tok/s]\n`);
      }
      return 0;
    } finally {
      md.dispose();
    }
  } finally {
    interrupt.dispose();
  }
}
