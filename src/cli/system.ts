import { ggmlInfo, type GgmlInfo } from '../ggml-info.js';
import { probeMachine } from '../machine-probe.js';
import { integerOption, parseArgs } from './args.js';
import { toJson } from './json.js';

const HELP = `Usage: moondream-ggml system [--probe] [--threads <n>] [--json]

Prints the vendored ggml's version and commit, which addon file is in use, which of ggml's CPU
backend variants was chosen and why (a portable build picks one at run time; MOONDREAM_CPU_LEVEL
caps it), which of our own kernels are on and why, the CPU features in use, and the default thread
count (one per physical core).

  --probe        Also measure this machine's read bandwidth and its fp32 FMA, int8 (bare, and
                 with q8_0's per-block scaling as our prefill kernels run) and bf16 peaks with
                 --threads threads (a second or two; run it on an idle machine)
  --threads <n>  Threads for --probe (default: physical cores)
  --json         Print JSON
`;

export async function runSystem(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['--threads'], ['--help', '--probe', '--json']);
  if (args.flags.has('--help')) {
    process.stdout.write(HELP);
    return 0;
  }
  const info = ggmlInfo();
  const threads = integerOption(args, '--threads', 1, 1024) ?? info.defaultThreads;
  const probe = args.flags.has('--probe') ? await probeMachine({ threads }) : undefined;
  if (args.flags.has('--json')) {
    process.stdout.write(`${toJson(probe === undefined ? info : { ...info, probe })}\n`);
    return 0;
  }
  const features = Object.entries(info.cpuFeatures).filter(([, on]) => on).map(([name]) => name);
  const lines = [
    `ggml ${info.ggmlVersion} (llama.cpp ${info.ggmlCommit.slice(0, 7)})`,
    `addon: ${info.addon.path} (${info.addon.origin})`,
    ...describeCpuBackend(info),
    `CPU features: ${features.join(' ') || 'none'}`,
    `cores: ${info.physicalCores} physical, ${info.logicalCpus} logical; default threads: ${info.defaultThreads}`,
  ];
  if (probe !== undefined) {
    lines.push(
      `probe, ${probe.threads} threads: read ${(probe.readBytesPerSecond / 1e9).toFixed(1)} GB/s; ` +
        `fp32 ${(probe.fp32FlopsPerSecond / 1e9).toFixed(0)} GFLOP/s (${probe.fp32Isa}); ` +
        `int8 ${(probe.int8OpsPerSecond / 1e9).toFixed(0)} GOP/s (${probe.int8Isa})` +
        (probe.int8BlockOpsPerSecond > 0 ? `, ${(probe.int8BlockOpsPerSecond / 1e9).toFixed(0)} with q8_0's per-block scaling` : '') +
        (probe.bf16FlopsPerSecond > 0 ? `; bf16 ${(probe.bf16FlopsPerSecond / 1e9).toFixed(0)} GFLOP/s (AVX-512 BF16)` : ''),
    );
  }
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}

function describeCpuBackend(info: GgmlInfo): string[] {
  const backend = info.cpuBackend;
  const level = backend.cpuLevel === '' ? '' : ` [MOONDREAM_CPU_LEVEL=${backend.cpuLevel}]`;
  const lines = backend.error !== undefined
    ? [`ggml CPU backend: none could be loaded${level}: ${backend.error.message}`]
    : [`ggml CPU backend: ${backend.variant}${level}: ${backend.reason}` + (backend.file === '' ? '' : ` (${backend.file})`)];
  if (backend.candidates.length > 0) {
    const width = Math.max(...backend.candidates.map((c) => c.name.length));
    for (const c of backend.candidates) lines.push(`  ${c.name.padEnd(width)}  score ${String(c.score).padStart(4)}  ${c.verdict}`);
  }
  for (const kernel of info.kernels) lines.push(`our kernel ${kernel.name}: ${kernel.chosen ? 'on' : 'off'}: ${kernel.reason}`);
  return lines;
}
