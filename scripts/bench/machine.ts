// Work counts for the benchmark's bounds (src/machine-probe.ts measures the rates they are divided by).

/** moondream1's vision tower and projector: 729 patches of 588 values, 27 blocks of width 1152. */
export const VISION_SHAPE = { n: 729, width: 1152, ff: 4304, blocks: 27, projInner: 8192, projOut: 2048, patch: 588 };

/** FLOPs of one vision encode (patch embedding, blocks with full attention, projector). */
export function visionFlops(d: { n: number; width: number; ff: number; blocks: number; projInner: number; projOut: number; patch: number }): number {
  const perBlock = 2 * d.n * (4 * d.width * d.width + 2 * d.width * d.ff) + 4 * d.n * d.n * d.width;
  return 2 * d.n * d.patch * d.width + d.blocks * perBlock + 2 * d.n * (d.width * d.projInner + d.projInner * d.projOut);
}

/** Work of a causal prefill of `tokens` positions through Phi-1.5 (24 blocks of width 2048, the
 *  last block's tail and the head on one position only): matmul ops (2 per multiply-add) and the
 *  attention's QK^T and PV over the causal triangle. */
export function prefillWork(tokens: number, width = 2048, layers = 24, vocab = 51200): { matmulFlops: number; attentionFlops: number } {
  const perPosition = 12 * width * width;  // QKV 3w^2 + output w^2 + MLP 8w^2
  const lastTail = 9 * width * width;      // output projection + MLP, skipped for all but the last position
  const macs = perPosition * tokens * layers - lastTail * (tokens - 1) + vocab * width;
  return { matmulFlops: 2 * macs, attentionFlops: 2 * tokens * tokens * width * layers };
}
