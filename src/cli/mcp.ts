// moondream-ggml mcp: a Model Context Protocol server on stdio. stdout carries the protocol, so
// everything else goes to stderr.
import { readFileSync } from 'node:fs';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { Moondream } from '../moondream.js';
import { createMcpServer } from '../mcp/server.js';
import { integerOption, parseArgs, UsageError } from './args.js';
import { resolveCliModel } from './model-source.js';

export const MCP_HELP = `Usage: moondream-ggml mcp [options]

Runs a Model Context Protocol server on stdin/stdout with two tools:
  caption_image { image, max_tokens? }            describe an image
  ask_image     { image, question, max_tokens? }  answer a question about an image
where image is a file path, a data:image/...;base64 URL or base64 bytes.

Options:
  --model <dir>            A folder with the GGUF pair (default: the pulled model)
  --threads <n>            Compute threads (default: physical cores)
  --media-dir <dir>        Read image paths only under this folder (default: any path)
  --max-image-pixels <n>   Largest image width x height (default 50000000)
  -h, --help               Show this help
`;

export async function runMcp(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, ['--model', '--threads', '--media-dir', '--max-image-pixels'], ['--help']);
  if (args.flags.has('--help')) {
    process.stdout.write(MCP_HELP);
    return 0;
  }
  if (args.positionals.length > 0) throw new UsageError(`mcp takes no positional arguments, got "${args.positionals[0]}"`);
  const threads = integerOption(args, '--threads', 1, 1024);
  const version = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  const model = resolveCliModel(args.values.get('--model'), new AbortController().signal)
    .then((source) => Moondream.load(source, threads === undefined ? {} : { threads }));
  model.catch((error: unknown) => process.stderr.write(`moondream-ggml mcp: the model failed to load: ${String(error)}\n`));
  const server = createMcpServer(model, {
    mediaDir: args.values.get('--media-dir'),
    maxImageBytes: 64 * 1024 * 1024,
    maxImagePixels: integerOption(args, '--max-image-pixels', 1, Number.MAX_SAFE_INTEGER) ?? 50_000_000,
    version,
  });
  const closed = new Promise<void>((resolve) => { server.server.onclose = () => resolve(); });
  await server.connect(new StdioServerTransport());
  await closed;
  (await model.catch(() => undefined))?.dispose();
  return 0;
}
