// Encoded images by the SHA-256 of their bytes, least recently used dropped first. The same
// EncodedImage object keys the session's image-prefix KV cache, so a repeated image skips both
// the vision tower and the prefill of its 729 rows.
import { createHash } from 'node:crypto';
import type { EncodedImage } from '../encoded-image.js';

/** Lower-case hex SHA-256 of the image bytes: the value of x-moondream-image-hash. */
export function imageHash(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export class ImageCache {
  private readonly entries = new Map<string, Promise<EncodedImage>>();

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  /**
   * The cached image for `hash`, or the result of `encode()` (cached unless it fails). A caller
   * that joins an encode started by a request that was then aborted encodes again itself.
   */
  async get(hash: string, encode: () => Promise<EncodedImage>, signal?: AbortSignal): Promise<{ image: EncodedImage; cached: boolean }> {
    for (let attempt = 0; ; attempt++) {
      const existing = this.entries.get(hash);
      if (existing) {
        this.entries.delete(hash);
        this.entries.set(hash, existing);
        try {
          return { image: await existing, cached: true };
        } catch (error) {
          if (attempt > 0 || signal?.aborted) throw error;
          continue;  // the entry was removed when it failed: encode it ourselves
        }
      }
      if (this.capacity === 0) return { image: await encode(), cached: false };
      const pending = encode();
      this.entries.set(hash, pending);
      pending.catch(() => {
        if (this.entries.get(hash) === pending) this.entries.delete(hash);
      });
      while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
      return { image: await pending, cached: false };
    }
  }
}
