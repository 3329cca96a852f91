// The machine probe, repeated: its figures only bound the stages if they hold still. On a shared or
// virtual machine a neighbour on the sibling hyperthread or the memory bus can move them by half
// between two probes a few minutes apart, so the benchmark probes before and after the stages,
// reports the spread, and withholds "fraction of the bound" when the spread is wide.
import { probeMachine, type MachineProbe } from '../../src/index.js';
import { median } from './stats.js';

/** Widest spread, (max - min) / max over all repetitions, at which fractions are still printed. */
export const MAX_PROBE_SPREAD = 0.1;

/** Whether a bound from this quantity means something: its repetitions held within MAX_PROBE_SPREAD. */
export function steady(q: ProbeQuantity): boolean {
  return q.spread <= MAX_PROBE_SPREAD;
}

export interface ProbeQuantity {
  /** The bound used: the median of the repetitions (each repetition is already a best of passes). */
  value: number;
  min: number;
  max: number;
  spread: number;
  samples: number[];
}

export interface ProbeSummary {
  threads: number;
  fp32Isa: string;
  int8Isa: string;
  read: ProbeQuantity;
  fp32: ProbeQuantity;
  int8: ProbeQuantity;
  /** The int8 rate with q8_0's per-block scaling: our prefill kernels' roofline (0 where they do not
   *  run on AVX-512 VNNI; absent in older reports). Not part of `stable`: it bounds prefill only. */
  int8Block?: ProbeQuantity;
  /** VDPBF16PS (0 where the CPU lacks AVX-512 BF16; absent in older reports). Not part of `stable`:
   *  it bounds only the opt-in bf16 mmproj. */
  bf16?: ProbeQuantity;
  /** Every quantity's spread is at most MAX_PROBE_SPREAD. */
  stable: boolean;
  probes: MachineProbe[];
}

function quantity(samples: number[]): ProbeQuantity {
  const max = Math.max(...samples);
  const min = Math.min(...samples);
  return { value: median(samples), min, max, spread: max > 0 ? (max - min) / max : 0, samples };
}

export async function runProbes(threads: number, repeats: number): Promise<MachineProbe[]> {
  const out: MachineProbe[] = [];
  for (let i = 0; i < repeats; i++) out.push(await probeMachine({ threads }));
  return out;
}

export function summarizeProbes(probes: MachineProbe[]): ProbeSummary {
  const first = probes[0];
  if (!first) throw new Error('no probe ran');
  const read = quantity(probes.map((p) => p.readBytesPerSecond));
  const fp32 = quantity(probes.map((p) => p.fp32FlopsPerSecond));
  const int8 = quantity(probes.map((p) => p.int8OpsPerSecond));
  const int8Block = quantity(probes.map((p) => p.int8BlockOpsPerSecond ?? 0));
  const bf16 = quantity(probes.map((p) => p.bf16FlopsPerSecond ?? 0));
  return {
    threads: first.threads,
    fp32Isa: first.fp32Isa,
    int8Isa: first.int8Isa,
    read, fp32, int8, int8Block, bf16,
    stable: [read, fp32, int8].every(steady),
    probes,
  };
}

/** The probe quantities whose repetitions spread too far to bound anything. */
function unsteady(p: ProbeSummary): string[] {
  const named: [string, ProbeQuantity][] = [['read bandwidth', p.read], ['fp32 FMA', p.fp32], ['int8', p.int8]];
  return named.filter(([, q]) => !steady(q)).map(([name]) => name);
}

const pct = (x: number) => `${(100 * x).toFixed(0)}%`;

export function probeLines(p: ProbeSummary): string[] {
  const row = (name: string, q: ProbeQuantity, unit: string, scale: number, digits: number) =>
    `| ${name} | ${(q.value / scale).toFixed(digits)} | ${(q.min / scale).toFixed(digits)}–${(q.max / scale).toFixed(digits)} | ${pct(q.spread)} |`;
  return [
    `| probe, ${p.threads} threads (${p.probes.length} repetitions, before and after the stages) | median | range | spread |`,
    '|---|---|---|---|',
    row('read bandwidth, GB/s', p.read, 'GB/s', 1e9, 1),
    row(`fp32 FMA, GFLOP/s (${p.fp32Isa})`, p.fp32, 'GFLOP/s', 1e9, 0),
    row(`int8 multiply-add, GOP/s (${p.int8Isa})`, p.int8, 'GOP/s', 1e9, 0),
    ...(p.int8Block && p.int8Block.value > 0
      ? [row('the same with q8_0\'s per-block scaling (8 VPDPBUSD, then convert, scale, multiply-add), GOP/s: our prefill kernels\' roofline', p.int8Block, 'GOP/s', 1e9, 0)]
      : []),
    ...(p.bf16 && p.bf16.value > 0 ? [row('bf16 dot products, GFLOP/s (AVX-512 BF16)', p.bf16, 'GFLOP/s', 1e9, 0)] : []),
    '',
    p.stable
      ? `The probe held within ${pct(MAX_PROBE_SPREAD)}; bounds use its medians.`
      : `**The probe spread more than ${pct(MAX_PROBE_SPREAD)} between repetitions for ${unsteady(p).join(' and ')}: the ` +
        'machine was not quiet (another process, a neighbour on the host), so no "fraction of the bound" is printed for a ' +
        'stage whose bound rests on that. Ratios to llama.cpp, measured alternately in the same run, still hold.**',
  ];
}
