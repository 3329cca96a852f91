// The one place the server meets the model's API: each pool slot is a MoondreamSession, with its
// own KV cache and image-prefix cache, on the model's shared weights and compute threads.
import { availableParallelism, freemem } from 'node:os';
import type { Answer, AnswerOptions } from '../api-types.js';
import type { Moondream } from '../moondream.js';
import type { EncodedImage } from '../encoded-image.js';
import type { ImageInput } from '../image.js';

export type ServingAnswerOptions = Omit<AnswerOptions, 'onToken'>;

/** What the server needs of a session: a subset of MoondreamSession's methods. */
export interface ServingSession {
  encodeImage(input: ImageInput, options?: { signal?: AbortSignal; maxPixels?: number }): Promise<EncodedImage>;
  answer(image: EncodedImage, question: string, options?: ServingAnswerOptions): Promise<Answer>;
  dispose(): void;
}

export function modelSessionFactory(md: Moondream): () => ServingSession {
  return () => md.createSession();
}

/**
 * Sessions answering at once when `--parallel` is not given. Sessions share the model's compute
 * threads (one graph at a time, first come first served), so more of them do not add arithmetic;
 * what they add is that a new request's prefill interleaves with a long answer instead of waiting
 * for it. Two cover that on a small machine, up to four on larger ones, and no more than a quarter
 * of free memory holds (each session allocates a KV cache for its whole context).
 */
export function defaultParallel(sessionBytes: number, freeBytes = freemem(), cores = availableParallelism()): number {
  const byCores = Math.min(4, Math.max(2, Math.floor(cores / 2)));
  const byMemory = Math.floor(freeBytes / 4 / Math.max(1, sessionBytes));
  return Math.max(1, Math.min(byCores, byMemory));
}
