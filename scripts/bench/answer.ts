// The whole moondream job on the full-size model: load, encode an image, answer a first question
// (prefill of the 753-entry prompt and `maxTokens` tokens), then a second question on the same
// image (its prefix reused).
import { performance } from 'node:perf_hooks';
import { Moondream } from '../../src/index.js';

export interface AnswerTimings {
  loadMs: number;
  /** Image file to embeddings: decode, resize and the vision tower. */
  encodeMs: number;
  first: { prefillMs: number; decodeMs: number; decodeTokensPerSecond: number; tokens: number };
  repeated: { timeToFirstTokenMs: number; reusedPositions: number };
  /** Encode + first answer's prefill + exactly `maxTokens` tokens: what a loaded model pays per request. */
  requestMs: number;
  /** Load + request. */
  endToEndMs: number;
}

export async function answerTimings(files: { text: string; mmproj: string }, image: string, threads: number, maxTokens: number): Promise<AnswerTimings> {
  const start = performance.now();
  const md = await Moondream.load(files, { threads });
  try {
    const loaded = performance.now();
    const encoded = await md.encodeImage(image);
    const first = await md.answer(encoded, 'What is the title of this book?', { maxTokens });
    const end = performance.now();
    const repeated = await md.answer(encoded, 'What is in this picture?', { maxTokens: 1 });
    // A stop token may end the answer before maxTokens: count the missing steps at the measured rate.
    const perToken = first.timings.decodeMs / Math.max(1, first.tokens.length - 1);
    const correction = (maxTokens - first.tokens.length) * perToken;
    return {
      loadMs: loaded - start,
      encodeMs: encoded.timings.totalMs,
      first: {
        prefillMs: first.timings.prefillMs,
        decodeMs: first.timings.decodeMs,
        decodeTokensPerSecond: first.timings.tokensPerSecond,
        tokens: first.tokens.length,
      },
      repeated: { timeToFirstTokenMs: repeated.timings.prefillMs, reusedPositions: repeated.timings.reusedPositions },
      requestMs: end - loaded + correction,
      endToEndMs: end - start + correction,
    };
  } finally {
    md.dispose();
  }
}
