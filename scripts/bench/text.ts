// Prefill and decode speed of the text model: ours and node-llama-cpp's on the same GGUF.
import { performance } from 'node:perf_hooks';
import { getLlama } from 'node-llama-cpp';
import { Moondream } from '../../src/index.js';
import { median } from './stats.js';

export interface TextSpeed {
  prefillMs: number;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
}

/** A fixed pseudo-random prompt of ordinary GPT-2 tokens. */
export function benchPrompt(length: number): number[] {
  return Array.from({ length }, (_, i) => (i * 7919 + 13) % 50256);
}

function summarize(runs: { prefillMs: number; decodeMs: number }[], promptLength: number, decoded: number): TextSpeed {
  const prefillMs = median(runs.map((r) => r.prefillMs));
  return {
    prefillMs,
    prefillTokensPerSecond: (promptLength * 1000) / prefillMs,
    decodeTokensPerSecond: median(runs.map((r) => (decoded * 1000) / r.decodeMs)),
  };
}

export async function ourTextSpeed(path: string, threads: number, promptLength: number, decoded: number, runs: number): Promise<TextSpeed> {
  const md = await Moondream.load({ text: path }, { threads });
  try {
    const prompt = benchPrompt(promptLength);
    const results = [];
    for (let i = 0; i < runs; i++) {
      const { timings } = await md.generate(prompt, { maxTokens: decoded + 1 });
      results.push({ prefillMs: timings.prefillMs, decodeMs: timings.decodeMs });
    }
    return summarize(results, promptLength, decoded);
  } finally {
    md.dispose();
  }
}

export async function llamaCppTextSpeed(path: string, threads: number, promptLength: number, decoded: number, runs: number,
  flashAttention: boolean): Promise<TextSpeed> {
  const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error' as never });
  const model = await llama.loadModel({ modelPath: path });
  const context = await model.createContext({ contextSize: 2048, threads, flashAttention });
  const sequence = context.getSequence();
  try {
    const prompt = benchPrompt(promptLength);
    const results = [];
    for (let i = 0; i < runs; i++) {
      await sequence.clearHistory();
      const start = performance.now();
      let first = 0;
      let count = 0;
      for await (const token of sequence.evaluate(prompt as never[], { temperature: 0 })) {
        void token;
        count += 1;
        if (count === 1) first = performance.now();
        if (count > decoded) break;
      }
      const end = performance.now();
      results.push({ prefillMs: first - start, decodeMs: end - first });
    }
    return summarize(results, promptLength, decoded);
  } finally {
    await context.dispose();
    await model.dispose();
  }
}
