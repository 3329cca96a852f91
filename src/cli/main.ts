#!/usr/bin/env node
// The moondream-ggml command line. Only the CLI writes to stdout; errors go to stderr with exit 1.
import { MoondreamError } from '../errors.js';
import { UsageError } from './args.js';
import { runConvert } from './convert.js';
import { runInfo } from './info.js';
import { runPull } from './pull.js';
import { runSystem } from './system.js';

const USAGE = `Usage: moondream-ggml <command> [options]

Commands:
  convert <hf-dir> --out <dir> [--type t] [--vision-type t]
                              Convert a moondream1 checkpoint to a GGUF pair
  info <file.gguf> [--json]   Show a GGUF file's metadata and tensors
  pull [--type t] [--vision-type t] [--revision r] [--prune]
                              Download moondream1 from the Hugging Face hub into the cache
  system [--json]             Show the ggml build, CPU features and default thread count

Options:
  -h, --help                  Show this help
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(USAGE);
    return command === undefined ? 1 : 0;
  }
  switch (command) {
    case 'convert': return runConvert(rest);
    case 'info': return runInfo(rest);
    case 'pull': return runPull(rest);
    case 'system': return runSystem(rest);
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
