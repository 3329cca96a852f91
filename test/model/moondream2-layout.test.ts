// Files in the published moondream2 GGUF layout (no moondream.* keys, no pre-tokenizer key, 28
// blocks with a duplicated unused last one, legacy swapped ffn names) load with the semantics
// those files were made for. The layout is rebuilt here from our tiny pair.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Moondream, readGgufInfo, writeGguf, type GgufInfo, type GgufMetadataEntry, type GgufTensorEntry } from '../../src/index.js';
import type { GgmlTypeName } from '../../src/gguf/ggml-types.js';
import { tempDir } from '../helpers/temp-dir.js';
import { tinyPair } from '../helpers/tiny-model.js';

const dir = tempDir();

type Tensor = GgufTensorEntry & { data: Uint8Array };

function tensorsOf(path: string, info: GgufInfo): Tensor[] {
  const bytes = readFileSync(path);
  return info.tensors.map((t) => ({
    name: t.name, type: t.type as GgmlTypeName, shape: t.shape,
    data: bytes.subarray(info.dataOffset + t.offset, info.dataOffset + t.offset + t.size),
  }));
}

async function moondream2Layout(): Promise<{ text: string; mmproj: string; ours: { text: string; mmproj: string } }> {
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
  return { text, mmproj, ours: { text: pair.textPath, mmproj: pair.mmprojPath } };
}

describe('the moondream2 GGUF layout', () => {
  it('loads with moondream2 semantics: n-1 blocks, swapped ffn names undone, tanh GELU, its prompt', async () => {
    const files = await moondream2Layout();
    const md = await Moondream.load({ text: files.text, mmproj: files.mmproj }, { threads: 2 });
    const reference = await Moondream.load(files.ours, { threads: 2 });
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

      // The text side is the same model: identical logits.
      const tokens = [50256, 27, 9060, 29];
      assert.deepEqual(await md.evaluate(tokens), await reference.evaluate(tokens));
      // The vision side runs the same two blocks, with tanh instead of erf GELU: close, not equal.
      const pixels = new Float32Array(3 * 378 * 378).map((_, i) => Math.fround(Math.sin(i * 0.01) * 0.9));
      const a = (await md.encodePixels(pixels)).embeddings;
      const b = (await reference.encodePixels(pixels)).embeddings;
      let maxDiff = 0;
      let maxAbs = 0;
      for (let i = 0; i < a.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!));
        maxAbs = Math.max(maxAbs, Math.abs(b[i]!));
      }
      assert.ok(maxDiff > 0, 'tanh and erf GELU should not give identical embeddings');
      assert.ok(maxDiff / maxAbs < 0.05, `moondream2 layout drifted too far: ${maxDiff / maxAbs}`);
    } finally {
      md.dispose();
      reference.dispose();
    }
  });
});
