// Files in the published moondream2 GGUF layout (no moondream.* keys, no pre-tokenizer key, 28
// blocks with a duplicated unused last one, legacy swapped ffn names) load with the semantics
// those files were made for. The layout is rebuilt here from our tiny pair; what it must compute
// comes from elsewhere: llama.cpp (node-llama-cpp) runs the same text file, and the numpy
// reference's tanh-GELU vision forward of the same checkpoint is a committed golden.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Moondream, readGgufInfo, writeGguf, type GgufInfo, type GgufMetadataEntry, type GgufTensorEntry } from '../../src/index.js';
import type { GgmlTypeName } from '../../src/gguf/ggml-types.js';
import { PARITY_PROMPTS, loadOracleModel, softmax } from '../../scripts/lib/llama-cpp-oracle.js';
import { LLAMA_CPP_PROBABILITY_LIMITS, REFERENCE_MAX_RELATIVE_ERROR } from '../helpers/agreement-bounds.js';
import { assertGoldenCheckpoint, maxRelativeError, readGolden, reference, syntheticPixels } from '../helpers/reference-goldens.js';
import { tempDir } from '../helpers/temp-dir.js';

// llama.cpp's flash attention keeps its value sums in f16; our prefill attention is f32 (held to
// ggml's and to an all-f32 path by vision-kernels.test.ts). Like for like here: ggml's kernel. The
// native runtime reads this when it builds a text graph.
process.env.MOONDREAM_DISABLE_PREFILL_ATTENTION = '1';
import { tinyCheckpoint, tinyPair } from '../helpers/tiny-model.js';

const dir = tempDir();

type Tensor = GgufTensorEntry & { data: Uint8Array };

function tensorsOf(path: string, info: GgufInfo): Tensor[] {
  const bytes = readFileSync(path);
  return info.tensors.map((t) => ({
    name: t.name, type: t.type as GgmlTypeName, shape: t.shape,
    data: bytes.subarray(info.dataOffset + t.offset, info.dataOffset + t.offset + t.size),
  }));
}

let layout: Promise<{ text: string; mmproj: string }> | undefined;
const moondream2Layout = () => (layout ??= writeMoondream2Layout());

async function writeMoondream2Layout(): Promise<{ text: string; mmproj: string }> {
  const pair = await tinyPair('f32', 'f32');
  const textInfo = await readGgufInfo(pair.textPath);
  const text = join(dir, 'moondream2-text.gguf');
  await writeGguf(text,
    textInfo.metadata.filter((m) => !m.key.startsWith('moondream.') && m.key !== 'tokenizer.ggml.pre'),
    tensorsOf(pair.textPath, textInfo));

  const visionInfo = await readGgufInfo(pair.mmprojPath);
  const visionTensors = tensorsOf(pair.mmprojPath, visionInfo).map((t) => ({
    ...t, name: t.name.replace('.ffn_up.', '.ffn_TMP.').replace('.ffn_down.', '.ffn_up.').replace('.ffn_TMP.', '.ffn_down.'),
  }));
  const lastBlock = visionTensors.filter((t) => t.name.startsWith('v.blk.1.'));
  const duplicate = lastBlock.map((t) => ({ ...t, name: t.name.replace('v.blk.1.', 'v.blk.2.') }));
  const mmproj = join(dir, 'moondream2-mmproj.gguf');
  await writeGguf(mmproj,
    visionInfo.metadata
      .filter((m) => !m.key.startsWith('moondream.') && m.key !== 'clip.vision.feature_layer')
      .map((m): GgufMetadataEntry => (m.key === 'clip.vision.block_count' ? { key: m.key, type: 'uint32', value: 3 } : m)),
    [...visionTensors, ...duplicate]);
  return { text, mmproj };
}

describe('the moondream2 GGUF layout', () => {
  it('is read with moondream2 semantics: n-1 blocks, swapped ffn names undone, tanh GELU, its prompt', async () => {
    const files = await moondream2Layout();
    const md = await Moondream.load({ text: files.text, mmproj: files.mmproj }, { threads: 2 });
    try {
      const info = md.info;
      assert.equal(info.prompt.name, 'moondream2-gguf');
      assert.deepEqual(info.prompt.stopTokenIds, [50256]);
      assert.equal(info.prompt.template.includes('<image>'), false);
      assert.equal(info.prompt.template.endsWith('Answer:'), true);
      assert.equal(info.vision?.blockCountInFile, 3);
      assert.equal(info.vision?.blockCount, 2);
      assert.equal(info.vision?.ffnNamesSwapped, true);
      assert.equal(info.vision?.gelu, 'tanh');
    } finally {
      md.dispose();
    }
  });

  it('text: next-token probabilities and greedy continuations of llama.cpp on the same file', async (t) => {
    const files = await moondream2Layout();
    // gelu 'fast' is llama.cpp's f16-table GELU; flash attention on in both.
    const md = await Moondream.load({ text: files.text }, { threads: 2, gelu: 'fast', flashAttention: true });
    const oracle = await loadOracleModel(files.text, 2, true);
    try {
      const limit = LLAMA_CPP_PROBABILITY_LIMITS.f32;
      let worst = 0;
      for (const prompt of PARITY_PROMPTS) {
        const theirs = await oracle.probabilities(prompt);
        const ours = softmax(await md.evaluate(prompt));
        for (let id = 0; id < ours.length; id++) worst = Math.max(worst, Math.abs(ours[id]! - (theirs.get(id) ?? 0)));
      }
      t.diagnostic(`max |p_ours - p_llama.cpp| = ${worst.toExponential(2)} (bound ${limit})`);
      assert.ok(worst <= limit, `max abs probability difference ${worst} exceeds ${limit}`);
      for (const prompt of PARITY_PROMPTS) {
        assert.deepEqual((await md.generate(prompt, { maxTokens: 16 })).tokens, await oracle.greedy(prompt, 16),
          `greedy continuation of a ${prompt.length}-token prompt`);
      }
    } finally {
      md.dispose();
      await oracle.dispose();
    }
  });

  it('vision: the numpy reference\'s tanh-GELU image embeddings of the same checkpoint', async (t) => {
    assertGoldenCheckpoint(join(await tinyCheckpoint(), 'model.safetensors'));
    const files = await moondream2Layout();
    const md = await Moondream.load({ text: files.text, mmproj: files.mmproj }, { threads: 2 });
    try {
      const ours = await md.encodePixels(syntheticPixels());
      assert.equal(ours.rows, reference.visionTanh.rows);
      assert.equal(ours.width, reference.visionTanh.width);
      const tanh = readGolden(reference.visionTanh.file);
      const error = maxRelativeError(ours.embeddings, tanh);
      // The bound must tell the GELUs apart: erf instead of tanh would be this far off.
      const erfGap = maxRelativeError(readGolden(reference.vision.file), tanh);
      t.diagnostic(`max relative error ${error.toExponential(3)} (bound ${REFERENCE_MAX_RELATIVE_ERROR}); erf GELU would give ${erfGap.toExponential(3)}`);
      assert.ok(erfGap > 10 * REFERENCE_MAX_RELATIVE_ERROR);
      assert.ok(error <= REFERENCE_MAX_RELATIVE_ERROR, `max |ours - ref| / max |ref| = ${error.toExponential(3)} > ${REFERENCE_MAX_RELATIVE_ERROR}`);
    } finally {
      md.dispose();
    }
  });
});
