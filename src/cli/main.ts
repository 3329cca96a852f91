#!/usr/bin/env node
// The moondream-ggml command line. Only the CLI writes to stdout; errors go to stderr with exit 1.
import { MoondreamError } from '../errors.js';
import { UsageError } from './args.js';
import { runAsk } from './ask.js';
import { runBatchCommand } from './batch.js';
import { runChat } from './chat.js';
import { runConvert } from './convert.js';
import { runInfo } from './info.js';
import { runPull } from './pull.js';
import { runServe } from './serve.js';
import { runMcp } from './mcp.js';
import { runSystem } from './system.js';
import { runWorker } from './worker.js';

const USAGE = `Usage: moondream-ggml <command> [options]

Commands:
  ask <image> <question>      Answer a question about an image (streams the answer)
  batch <dir|glob|list.txt>... (--caption | --question q...) --out results.jsonl
                              Ask about many images into a resumable JSONL file (--queue: many machines)
  caption <image>             Describe an image
  chat <image>                Ask questions about an image interactively
  convert <hf-dir> --out <dir> [--type t] [--vision-type t]
                              Convert a moondream1 checkpoint to a GGUF pair
  info <model> [--json]       Show a model folder's dimensions and profile, or a GGUF file's metadata
  pull [--type t] [--vision-type t] [--revision r] [--prune]
                              Download moondream1 from the Hugging Face hub into the cache
  serve [--port n] [--parallel n] [--api-key k]
                              Serve the model over HTTP (OpenAI and Ollama APIs, /health, /metrics)
  mcp                         A Model Context Protocol server on stdio (tools caption_image, ask_image)
  system [--json]             Show the ggml build, CPU features and default thread count
  worker --queue <redis-url>  Answer batch jobs from a BullMQ queue on Redis until stopped

Options:
  -h, --help                  Show this help (also after a command: moondream-ggml ask --help)

The moondream1 weights are for research only, no commercial use.
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(USAGE);
    return command === undefined ? 1 : 0;
  }
  switch (command) {
    case 'ask': return runAsk(rest, 'ask');
    case 'batch': return runBatchCommand(rest);
    case 'caption': return runAsk(rest, 'caption');
    case 'chat': return runChat(rest);
    case 'convert': return runConvert(rest);
    case 'info': return runInfo(rest);
    case 'pull': return runPull(rest);
    case 'serve': return runServe(rest);
    case 'mcp': return runMcp(rest);
    case 'system': return runSystem(rest);
    case 'worker': return runWorker(rest);
    default:
      process.stderr.write(`moondream-ggml: unknown command "${command}"\n\n${USAGE}`);
      return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (error: unknown) => {
    const message = error instanceof MoondreamError ? `${error.message} (${error.code})`
      : error instanceof UsageError ? `${error.message} (see --help)`
        : String(error);
    process.stderr.write(`moondream-ggml: ${message}\n`);
    process.exitCode = 1;
  },
);
