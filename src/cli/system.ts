import { ggmlInfo } from '../ggml-info.js';
import { toJson } from './json.js';

export function runSystem(args: string[]): number {
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
