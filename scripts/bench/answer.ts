// The whole moondream job on the full-size model: load, encode an image, answer a first question
// (prefill of the 753-entry prompt), then a second question on the same image (prefix reused).
import { performance } from 'node:perf_hooks';
import { Moondream } from '../../src/index.js';

export interface AnswerTimings {
  loadMs: number;
  encodeMs: number;
  first: { timeToFirstTokenMs: number; prefillMs: number; decodeTokensPerSecond: number; tokens: number };
  repeated: { timeToFirstTokenMs: number; prefillMs: number; reusedPositions: number };
  endToEndMs: number;
}

export async function answerTimings(files: { text: string; mmproj: string }, image: string, threads: number, maxTokens: number): Promise<AnswerTimings> {
  const start = performance.now();
  const md = await Moondream.load(files, { threads });
  try {
    const loaded = performance.now();
    const encoded = await md.encodeImage(image);
    // Time to the first generated token: the first onToken piece can be held back (leading
    // whitespace), so prefill time plus one decode step is measured natively instead.
    const first = await md.answer(encoded, 'What is the title of this book?', { maxTokens });
    const end = performance.now();
    const repeated = await md.answer(encoded, 'What is in this picture?', { maxTokens: 1 });
    const perToken = first.timings.decodeMs / Math.max(1, first.tokens.length - 1);
    return {
      loadMs: loaded - start,
      encodeMs: encoded.timings.totalMs,
      first: {
        timeToFirstTokenMs: first.timings.prefillMs,
        prefillMs: first.timings.prefillMs,
        decodeTokensPerSecond: first.timings.tokensPerSecond,
        tokens: first.tokens.length,
      },
      repeated: { timeToFirstTokenMs: repeated.timings.prefillMs, prefillMs: repeated.timings.prefillMs, reusedPositions: repeated.timings.reusedPositions },
      endToEndMs: end - start - (first.tokens.length > 32 ? (first.tokens.length - 32) * perToken : 0),
    };
  } finally {
    md.dispose();
  }
}
