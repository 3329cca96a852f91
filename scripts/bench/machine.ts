// This machine's limits, used to print each stage's fraction of its bound. Defaults are the
// figures measured on this kind of machine (shared/notes/llama-cpp-anchor.md §1d); the issue-8
// probe replaces them with a measurement of the machine in hand.
export interface MachineBounds {
  /** Streaming read bandwidth with the benchmark's thread count, bytes/s. */
  readBandwidth: number;
  /** fp32 FMA peak with the benchmark's thread count, FLOP/s. */
  fmaPeak: number;
  source: string;
}

export const ANCHOR_BOUNDS: MachineBounds = { readBandwidth: 27e9, fmaPeak: 198e9, source: 'anchor (2 threads, this machine kind)' };

/** FLOPs of one vision encode (patch embedding, blocks with full attention, projector). */
export function visionFlops(d: { n: number; width: number; ff: number; blocks: number; projInner: number; projOut: number; patch: number }): number {
  const perBlock = 2 * d.n * (4 * d.width * d.width + 2 * d.width * d.ff) + 4 * d.n * d.n * d.width;
  return 2 * d.n * d.patch * d.width + d.blocks * perBlock + 2 * d.n * (d.width * d.projInner + d.projInner * d.projOut);
}

/** FLOPs of a causal prefill of `tokens` positions through the text blocks (head on one position). */
export function prefillFlops(tokens: number, blockParams: number, layers: number, width: number, headParams: number): number {
  return 2 * blockParams * tokens + 2 * tokens * tokens * width * layers + 2 * headParams;
}
