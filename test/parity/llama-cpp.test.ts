// Our text decoder against llama.cpp (node-llama-cpp 3.21.1) on the same GGUF: next-token
// probabilities and greedy continuations. Our default GELU is the reference's exact tanh form;
// llama.cpp uses an f16 lookup table, so these comparisons load with gelu: 'fast' to compare the
// same arithmetic (the exact mode is compared against the PyTorch-style reference elsewhere).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { TEXT_TYPES } from '../../src/convert/quant-types.js';
import { Moondream } from '../../src/index.js';
import { PARITY_PROMPTS, loadOracleModel, oracleCpuVariant, softmax } from '../../scripts/lib/llama-cpp-oracle.js';
import { LLAMA_CPP_PROBABILITY_LIMITS } from '../helpers/agreement-bounds.js';
import { tinyPair } from '../helpers/tiny-model.js';

const PROMPTS = PARITY_PROMPTS;

describe('node-llama-cpp runs every converted text GGUF', () => {
  for (const type of TEXT_TYPES) {
    it(`${type}: loads and generates`, async () => {
      const oracle = await loadOracleModel((await tinyPair(type)).textPath);
      try {
        const tokens = await oracle.greedy(PROMPTS[1]!, 8);
        assert.equal(tokens.length, 8);
        assert.ok(tokens.every((t) => Number.isInteger(t) && t >= 0 && t < 51200));
      } finally {
        await oracle.dispose();
      }
    });
  }
});

// Our own decode-step and prefill attention (f32 accumulators; ggml's flash attention keeps an f16
// one) are held to ggml's and to an all-f32 path by test/model/vision-kernels.test.ts. Here every
// step uses ggml's kernels, as llama.cpp does, so greedy paths can be compared token for token: a
// random tiny model has near-ties that any change of arithmetic flips. The native runtime reads
// these when it builds a text graph.
process.env.MOONDREAM_DISABLE_DECODE_ATTENTION = '1';
process.env.MOONDREAM_DISABLE_PREFILL_ATTENTION = '1';

/** max over token ids of |p - q|, q given sparsely by node-llama-cpp. */
function maxDifference(ours: Float64Array | number[], theirs: Map<number, number>): number {
  let worst = 0;
  for (let id = 0; id < ours.length; id++) worst = Math.max(worst, Math.abs(ours[id]! - (theirs.get(id) ?? 0)));
  return worst;
}

describe('same GGUF, same answers as llama.cpp', () => {
  // Both attention paths: ggml's flash attention (our default) against llama.cpp's, and plain
  // softmax attention against llama.cpp's with flash attention off. Each pair does the same
  // arithmetic, so differences stay at float noise (the bounds and what was measured: see
  // test/helpers/agreement-bounds.ts).
  //
  // f16 weights: llama.cpp's arithmetic depends on the CPU. With AMX it multiplies the f32
  // activations (as our AVX-512 f16 kernel does); elsewhere ggml first rounds them to f16 (as we
  // do on CPUs without AVX-512). The tiny f32 GGUF holds the same weights, so llama.cpp on it is
  // the f32-activation oracle: the f16 model must agree with llama.cpp on one of the two files.
  // A portable build of ours runs one of ggml's CPU variants; node-llama-cpp is made to run the same
  // one (scripts/lib/llama-cpp-oracle.ts), so MOONDREAM_CPU_LEVEL=avx2 compares AVX2 with AVX2.
  const limits: Record<string, number> = LLAMA_CPP_PROBABILITY_LIMITS;
  for (const flashAttention of [true, false]) {
    for (const [type, limit] of Object.entries(limits)) {
      it(`${type}, flash attention ${flashAttention ? 'on' : 'off'}: next-token probabilities within ${limit}, identical 64-token greedy continuations`, async (t) => {
        const pair = await tinyPair(type as 'f32');
        const oraclePaths = type === 'f16' ? [pair.textPath, (await tinyPair('f32')).textPath] : [pair.textPath];
        const md = await Moondream.load({ text: pair.textPath }, { gelu: 'fast', threads: 2, flashAttention });
        after(() => md.dispose());
        const outcomes: string[] = [];
        for (const oraclePath of oraclePaths) {
          const oracle = await loadOracleModel(oraclePath, 2, flashAttention);
          const file = oraclePath === pair.textPath ? `the ${type} file` : 'the f32 file (same weights)';
          try {
            let worst = 0;
            for (const prompt of PROMPTS) worst = Math.max(worst, maxDifference(softmax(await md.evaluate(prompt)), await oracle.probabilities(prompt)));
            t.diagnostic(`${type}, FA ${flashAttention ? 'on' : 'off'}: max |p_ours - p_llama.cpp on ${file}| = ${worst.toExponential(2)} (bound ${limit}; llama.cpp's CPU variant: ${oracleCpuVariant()})`);
            if (worst > limit) {
              outcomes.push(`llama.cpp on ${file}: max abs probability difference ${worst} exceeds ${limit}`);
              continue;
            }
            for (const prompt of PROMPTS) {
              const theirs = await oracle.greedy(prompt, 64);
              const ours = (await md.generate(prompt, { maxTokens: 64 })).tokens;
              assert.deepEqual(ours, theirs, `greedy continuation of a ${prompt.length}-token prompt (llama.cpp on ${file})`);
            }
            return;
          } finally {
            await oracle.dispose();
          }
        }
        assert.fail(outcomes.join('; '));
      });
    }
  }
});
