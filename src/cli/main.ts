#!/usr/bin/env node
// The moondream-ggml command line. Only the CLI writes to stdout; errors go to stderr with exit 1.
import { MoondreamError } from '../errors.js';
import { runInfo } from './info.js';
import { runSystem } from './system.js';

const USAGE = `Usage: moondream-ggml <command> [options]

Commands:
  info <file.gguf> [--json]   Show a GGUF file's metadata and tensors
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
    case 'info': return runInfo(rest);
    case 'system': return runSystem(rest);
    default:
      process.stderr.write(`moondream-ggml: unknown command "${command}"\n\n${USAGE}`);
      return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (error: unknown) => {
    const message = error instanceof MoondreamError ? `${error.message} (${error.code})` : String(error);
    process.stderr.write(`moondream-ggml: ${message}\n`);
    process.exitCode = 1;
  },
);
