// What a stage could reach at this machine's measured limits, for the targets table's "what bounds
// it" column: each figure is the run's own work count divided by the run's own probe, so a target
// the machine cannot reach is shown as such, and one it could reach says how far we are from it.
import { prefillWork, VISION_SHAPE, visionFlops } from './machine.js';
import type { ProbeSummary } from './probe.js';

/** KV cache bytes (f16 keys and values, 24 layers x 2048 wide) read per decoded token at `depth`. */
export function kvBytesAt(depth: number): number {
  return 24 * 2 * 2048 * 2 * depth;
}

/**
 * The prefill's time at our kernels' roofline: int8 matmuls at the rate with q8_0's per-block
 * scaling (the probe's int8Block), attention at the fp32 FMA peak. Null where that rate was not
 * measured (AVX2, AMX, an older report).
 */
export function prefillRooflineSeconds(p: ProbeSummary, positions: number): number | null {
  const block = p.int8Block?.value ?? 0;
  if (block <= 0) return null;
  const work = prefillWork(positions);
  return work.matmulFlops / block + work.attentionFlops / p.fp32.value;
}

/** The vision encode at a peak: the fp32 FMA peak for f16, the bf16 dot-product peak for bf16. */
export function encodeBoundSeconds(p: ProbeSummary, type: 'f16' | 'bf16'): number {
  const peak = type === 'bf16' && p.bf16 && p.bf16.value > 0 ? p.bf16.value : p.fp32.value;
  return visionFlops(VISION_SHAPE) / peak;
}

export interface RequestBound {
  encodeS: number;
  prefillS: number;
  decodeS: number;
  totalS: number;
}

/**
 * A request (encode, prefill of `positions`, `tokens` decoded) with every stage at its bound:
 * the encode at its peak, the prefill at the kernel roofline, each token's weights and KV cache
 * read at the read probe's median. Null where the prefill roofline was not measured.
 */
export function requestBound(p: ProbeSummary, mmproj: 'f16' | 'bf16', positions: number, tokens: number, weightBytes: number): RequestBound | null {
  const prefillS = prefillRooflineSeconds(p, positions);
  if (prefillS === null) return null;
  const encodeS = encodeBoundSeconds(p, mmproj);
  const decodeS = (tokens * (weightBytes + kvBytesAt(positions + tokens / 2))) / p.read.value;
  return { encodeS, prefillS, decodeS, totalS: encodeS + prefillS + decodeS };
}
