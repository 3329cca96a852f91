// The whole moondream job on the full-size model: load, encode an image, answer a first question
// (prefill of the 753-entry prompt and `maxTokens` tokens), then a second question on the same
// image (its prefix reused).
import { performance } from 'node:perf_hooks';
import { Moondream } from '../../src/index.js';

export interface AnswerTimings {
  loadMs: number;
  /** Image file to embeddings: decode, resize and the vision tower. */
  encodeMs: number;
  first: { prefillMs: number; decodeMs: number; decodeTokensPerSecond: number; tokens: number; promptPositions: number };
  repeated: { timeToFirstTokenMs: number; reusedPositions: number };
  /** Encode + first answer's prefill + exactly `maxTokens` tokens: what a loaded model pays per request. */
  requestMs: number;
  /** Load + request. */
  endToEndMs: number;
}

/** One request on a model that has already served another: what a running server pays. */
export interface ServedTimings {
  /** The earlier request (another image), which faults in the session's memory. */
  earlierRequestMs: number;
  encodeMs: number;
  prefillMs: number;
  decodeTokensPerSecond: number;
  /** Encode + prefill + exactly `maxTokens` tokens of the measured request. */
  requestMs: number;
}

/** An answer's time, with the steps a stop token spared counted at the measured rate. */
function fullLengthMs(ms: number, answer: { tokens: unknown[]; timings: { decodeMs: number } }, maxTokens: number): number {
  const perToken = answer.timings.decodeMs / Math.max(1, answer.tokens.length - 1);
  return ms + (maxTokens - answer.tokens.length) * perToken;
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
    const correction = fullLengthMs(0, first, maxTokens);
    return {
      loadMs: loaded - start,
      encodeMs: encoded.timings.totalMs,
      first: {
        prefillMs: first.timings.prefillMs,
        decodeMs: first.timings.decodeMs,
        decodeTokensPerSecond: first.timings.tokensPerSecond,
        tokens: first.tokens.length,
        promptPositions: first.timings.promptPositions,
      },
      repeated: { timeToFirstTokenMs: repeated.timings.prefillMs, reusedPositions: repeated.timings.reusedPositions },
      requestMs: end - loaded + correction,
      endToEndMs: end - start + correction,
    };
  } finally {
    md.dispose();
  }
}

/**
 * Load, answer about `earlierImage`, then time one request about `image` on the same session. A
 * first request after load also pays for memory the system hands over for the first time (the KV
 * cache, compute scratch); llama-mtmd-cli pays that in its start-up (it clears its cache and runs
 * a warm-up encode), so its request figure is this one's counterpart.
 */
export async function servedTimings(files: { text: string; mmproj: string }, earlierImage: string, image: string, threads: number,
  maxTokens: number): Promise<ServedTimings> {
  const md = await Moondream.load(files, { threads });
  try {
    const earlierStart = performance.now();
    const earlier = await md.answer(await md.encodeImage(earlierImage), 'What is in this picture?', { maxTokens });
    const earlierRequestMs = fullLengthMs(performance.now() - earlierStart, earlier, maxTokens);
    const start = performance.now();
    const encoded = await md.encodeImage(image);
    const answer = await md.answer(encoded, 'What is the title of this book?', { maxTokens });
    const requestMs = fullLengthMs(performance.now() - start, answer, maxTokens);
    return {
      earlierRequestMs,
      encodeMs: encoded.timings.totalMs,
      prefillMs: answer.timings.prefillMs,
      decodeTokensPerSecond: answer.timings.tokensPerSecond,
      requestMs,
    };
  } finally {
    md.dispose();
  }
}
