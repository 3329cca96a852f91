import { ggmlInfo } from '../ggml-info.js';
import { toJson } from './json.js';

const HELP = `Usage: moondream-ggml system [--json]

Prints the vendored ggml's version and commit, the CPU features it detects and uses, and the
default thread count (one per physical core).
`;

export function runSystem(args: string[]): number {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(HELP);
    return 0;
  }
  const info = ggmlInfo();
  if (args.includes('--json')) {
    process.stdout.write(`${toJson(info)}\n`);
    return 0;
  }
  const features = Object.entries(info.cpuFeatures).filter(([, on]) => on).map(([name]) => name);
  process.stdout.write([
    `ggml ${info.ggmlVersion} (llama.cpp ${info.ggmlCommit.slice(0, 7)})`,
    `CPU features: ${features.join(' ') || 'none'}`,
    `cores: ${info.physicalCores} physical, ${info.logicalCpus} logical; default threads: ${info.defaultThreads}`,
  ].join('\n') + '\n');
  return 0;
}
