// The text stages' workload: a fixed prompt of ordinary GPT-2 tokens, prefilled from an empty
// context, then single-token decode steps at that depth (what llama-bench calls pp<N> and
// tg<M> @ d<N>).

/** A fixed pseudo-random prompt of ordinary GPT-2 tokens. */
export function benchPrompt(length: number): number[] {
  return Array.from({ length }, (_, i) => (i * 7919 + 13) % 50256);
}
