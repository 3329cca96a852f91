// Names the machine a benchmark ran on: CPU model, the instruction sets that matter to these
// kernels, cores and memory. Figures vary between machines; the name says which one they are from.
import { readFileSync } from 'node:fs';
import { availableParallelism, totalmem, release } from 'node:os';

export interface MachineInfo {
  cpuModel: string;
  /** The flags these kernels (ours and ggml's) dispatch on, in /proc/cpuinfo's spelling. */
  flags: string[];
  logicalCpus: number;
  physicalCores: number | null;
  memoryBytes: number;
  hypervisor: boolean;
  kernel: string;
}

const RELEVANT_FLAGS = [
  'avx', 'avx2', 'fma', 'f16c', 'bmi2', 'avx_vnni', 'avx512f', 'avx512bw', 'avx512vl', 'avx512_vnni', 'avx512_bf16',
  'avx512_fp16', 'avx512vbmi', 'amx_tile', 'amx_int8', 'amx_bf16', 'asimd', 'asimddp', 'i8mm', 'sve',
];

function cpuinfo(): string {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return '';
  }
}

export function describeMachine(): MachineInfo {
  const text = cpuinfo();
  const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(text)?.[1]?.trim();
  const flags = new Set((field('flags') ?? field('Features') ?? '').split(/\s+/));
  // Physical cores: distinct (physical id, core id) pairs; absent on some architectures.
  const cores = new Set<string>();
  for (const block of text.split(/\n\n+/)) {
    const physical = /^physical id\s*:\s*(\d+)/m.exec(block)?.[1];
    const core = /^core id\s*:\s*(\d+)/m.exec(block)?.[1];
    if (physical !== undefined && core !== undefined) cores.add(`${physical}:${core}`);
  }
  return {
    cpuModel: field('model name') ?? field('Model') ?? 'unknown CPU',
    flags: RELEVANT_FLAGS.filter((f) => flags.has(f)),
    logicalCpus: availableParallelism(),
    physicalCores: cores.size > 0 ? cores.size : null,
    memoryBytes: totalmem(),
    hypervisor: flags.has('hypervisor'),
    kernel: release(),
  };
}

export function machineLine(m: MachineInfo): string {
  const cores = m.physicalCores !== null ? `${m.physicalCores} cores / ${m.logicalCpus} logical CPUs` : `${m.logicalCpus} logical CPUs`;
  return `${m.cpuModel}${m.hypervisor ? ' (virtual machine)' : ''}, ${cores}, ${(m.memoryBytes / 2 ** 30).toFixed(0)} GiB RAM, ` +
    `Linux ${m.kernel}; flags: ${m.flags.join(' ') || 'none of note'}`;
}
