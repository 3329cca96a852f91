// node-llama-cpp (llama.cpp's prebuilt CPU binaries, pinned at 3.21.1) as an oracle: the next-token
// distribution and greedy continuations for a text GGUF.
import { getLlama, type Llama, type LlamaModel } from 'node-llama-cpp';

let llama: Promise<Llama> | undefined;

export function oracle(): Promise<Llama> {
  llama ??= getLlama({ gpu: false, build: 'never', logLevel: 'error' as never });
  return llama;
}

export interface OracleModel {
  probabilities(tokens: readonly number[]): Promise<Map<number, number>>;
  greedy(tokens: readonly number[], count: number): Promise<number[]>;
  dispose(): Promise<void>;
}

export async function loadOracleModel(path: string, threads = 2, flashAttention = false): Promise<OracleModel> {
  const model: LlamaModel = await (await oracle()).loadModel({ modelPath: path });
  const context = await model.createContext({ contextSize: 2048, threads, flashAttention });
  const sequence = context.getSequence();
  return {
    async probabilities(tokens) {
      await sequence.clearHistory();
      for await (const item of sequence.evaluateWithMetadata([...tokens] as never[], { probabilities: true })) {
        return item.probabilities as Map<number, number>;
      }
      throw new Error('node-llama-cpp returned no distribution');
    },
    async greedy(tokens, count) {
      await sequence.clearHistory();
      const out: number[] = [];
      for await (const token of sequence.evaluate([...tokens] as never[], { temperature: 0 })) {
        out.push(token as number);
        if (out.length >= count) break;
      }
      return out;
    },
    async dispose() {
      await context.dispose();
      await model.dispose();
    },
  };
}

/** Softmax of logits, as probabilities by token id. */
export function softmax(logits: Float32Array): Float64Array {
  let max = -Infinity;
  for (const l of logits) max = Math.max(max, l);
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += (out[i] = Math.exp(logits[i]! - max));
  for (let i = 0; i < out.length; i++) out[i]! /= sum;
  return out;
}

/** The prompts parity checks use: BOS alone, the image tags, moondream1's question tail, some
 *  English with a whitespace token, and 120 spread-out ids. */
export const PARITY_PROMPTS: readonly number[][] = [
  [50256],
  [50256, 27, 9060, 29],
  [3556, 9060, 29, 198, 198, 24361, 25, 1867, 318, 262, 3670, 286, 428, 1492, 30, 198, 198, 33706, 25, 220],
  [50256, 464, 2068, 7586, 21831, 18045, 625, 262, 16931, 3290, 13, 50286, 15496],
  Array.from({ length: 120 }, (_, i) => (i * 7919 + 13) % 50257),
];
