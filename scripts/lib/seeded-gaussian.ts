// Seeded Gaussian numbers for generated checkpoints. Each tensor draws from its own xoshiro128**
// stream, keyed by (seed, tensor name), so a tensor's values do not depend on which tensors were
// generated before it, nor on how its data is chunked. Math.log/sqrt/cos/sin in V8 are fdlibm
// ports, so the bytes are the same on every platform Node runs on.

const GOLDEN = 0x9e3779b9;

/** murmur3's 32-bit finaliser: a bijection that spreads every input bit over the output. */
function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The 128-bit xoshiro state for one (seed, name) pair: four independently chained hashes of the key. */
export function streamState(seed: number, name: string): [number, number, number, number] {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a non-negative safe integer, not ${seed}`);
  const key = [seed >>> 0, Math.floor(seed / 2 ** 32) >>> 0, ...new TextEncoder().encode(name)];
  const state: [number, number, number, number] = [0, 0, 0, 0];
  for (let lane = 0; lane < 4; lane++) {
    let h = fmix32(Math.imul(lane + 1, GOLDEN));
    for (const word of key) h = fmix32((h ^ word) + GOLDEN);
    state[lane] = fmix32(h ^ key.length);
  }
  if (state.every((word) => word === 0)) state[0] = 1; // the one state xoshiro cannot leave
  return state;
}

/** A stream of N(0, 1) values: xoshiro128** uniforms through the Box-Muller transform. */
export class GaussianStream {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  /** Box-Muller yields pairs; an odd-length fill keeps the second for the next call. */
  private spare: number | undefined;

  constructor(seed: number, name: string) {
    [this.s0, this.s1, this.s2, this.s3] = streamState(seed, name);
  }

  /** Fills `out` with mean + std * N(0, 1), continuing the stream. */
  fill(out: Float32Array, mean: number, std: number): void {
    let i = 0;
    if (this.spare !== undefined && out.length > 0) {
      out[i++] = mean + std * this.spare;
      this.spare = undefined;
    }
    let { s0, s1, s2, s3 } = this;
    while (i < out.length) {
      // Two xoshiro128** steps, inlined: this loop runs 1.86 billion times for the full model.
      const a = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
      let t = s1 << 9;
      s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 11);
      const b = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
      t = s1 << 9;
      s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 11);

      const u1 = (a + 1) * 2 ** -32; // in (0, 1]: the logarithm stays finite
      const radius = Math.sqrt(-2 * Math.log(u1));
      const angle = 2 * Math.PI * b * 2 ** -32;
      out[i++] = mean + std * radius * Math.cos(angle);
      const second = radius * Math.sin(angle);
      if (i < out.length) out[i++] = mean + std * second;
      else this.spare = second;
    }
    this.s0 = s0; this.s1 = s1; this.s2 = s2; this.s3 = s3;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
