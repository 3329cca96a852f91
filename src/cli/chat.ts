// moondream-ggml chat <image>: an interactive conversation about one image.
import { createInterface } from 'node:readline/promises';
import { Moondream } from '../moondream.js';
import { MoondreamError } from '../errors.js';
import { parseArgs, UsageError } from './args.js';
import { resolveCliModel } from './model-source.js';
import { RUN_FLAG_OPTIONS, RUN_OPTIONS_HELP, RUN_VALUE_OPTIONS, runOptions } from './run-options.js';

export const CHAT_HELP = `Usage: moondream-ggml chat <image> [options]

Asks questions about one image interactively; each answer becomes history for the next question.
Type a question and press Enter; Ctrl-C stops an answer, Ctrl-D (or an empty line twice) quits.

Options:
${RUN_OPTIONS_HELP.split('\n').filter((line) => !line.includes('--json')).join('\n')}
`;

export async function runChat(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, RUN_VALUE_OPTIONS, RUN_FLAG_OPTIONS);
  if (args.flags.has('--help')) {
    process.stdout.write(CHAT_HELP);
    return 0;
  }
  if (args.positionals.length !== 1) throw new UsageError('chat needs an image');
  const options = runOptions(args);
  const md = await Moondream.load(await resolveCliModel(options.model, new AbortController().signal), options.load);
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: process.stdin.isTTY });
  // Created at once so that lines typed (or piped) while the image is encoding are kept.
  const lines = rl[Symbol.asyncIterator]();
  let current: AbortController | undefined;
  rl.on('SIGINT', () => {
    if (current) current.abort();
    else rl.close();
  });
  try {
    process.stderr.write('encoding the image...\n');
    const chat = md.chat(await md.encodeImage(args.positionals[0]!));
    let emptyLines = 0;
    rl.setPrompt('> ');
    rl.prompt();
    // The iterator buffers lines that arrive while an answer is still streaming.
    for (let next = await lines.next(); !next.done; next = await lines.next()) {
      const line = next.value;
      const question = line.trim();
      if (!question) {
        if (++emptyLines >= 2) break;
        rl.prompt();
        continue;
      }
      emptyLines = 0;
      current = new AbortController();
      try {
        await chat.ask(question, {
          signal: current.signal,
          onPiece: (piece) => process.stdout.write(piece),
          ...(options.maxTokens !== undefined ? { maxTokens: options.maxTokens } : {}),
          ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
        });
        process.stdout.write('\n');
      } catch (error) {
        if (!(error instanceof MoondreamError && error.code === 'ERR_ABORTED')) throw error;
        process.stdout.write('\n[stopped]\n');
      } finally {
        current = undefined;
      }
      rl.prompt();
    }
    return 0;
  } finally {
    rl.close();
    md.dispose();
  }
}
