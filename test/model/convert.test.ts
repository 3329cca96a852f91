// The tiny checkpoint converted with every --type: the pair loads in our runtime, tensors get
// llama.cpp's types, and the metadata carries llama.cpp's keys plus our moondream.* profile.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, it } from 'node:test';
import { TEXT_TYPES } from '../../src/convert/quant-types.js';
import { Moondream, readGgufInfo, type GgufInfo } from '../../src/index.js';
import { tinyPair } from '../helpers/tiny-model.js';

const typeOf = (info: GgufInfo, name: string) => info.tensors.find((t) => t.name === name)?.type;
const valueOf = (info: GgufInfo, key: string) => info.metadata.find((m) => m.key === key)?.value;

describe('convert: every text type', () => {
  for (const type of TEXT_TYPES) {
    it(`${type}: writes the named pair, which our loader accepts and runs`, async () => {
      const pair = await tinyPair(type, 'f16');
      assert.equal(basename(pair.textPath), `moondream1-text-model-${type.toLowerCase()}.gguf`);
      assert.equal(basename(pair.mmprojPath), 'moondream1-mmproj-f16.gguf');
      const md = await Moondream.load({ text: pair.textPath, mmproj: pair.mmprojPath }, { threads: 2 });
      try {
        assert.equal(md.info.text.blockCount, 2);
        assert.equal(md.info.vision?.blockCount, 2);
        const logits = await md.evaluate([50256, 27, 9060, 29]);
        assert.equal(logits.length, 51200);
        assert.ok(logits.every(Number.isFinite));
      } finally {
        md.dispose();
      }
    });
  }
});

describe('convert: tensor types follow llama.cpp', () => {
  it('f16: matrices f16, vectors f32, the patch kernel and position table f16', async () => {
    const pair = await tinyPair('f16', 'f16');
    const text = await readGgufInfo(pair.textPath);
    const vision = await readGgufInfo(pair.mmprojPath);
    assert.equal(typeOf(text, 'token_embd.weight'), 'f16');
    assert.equal(typeOf(text, 'blk.1.attn_qkv.weight'), 'f16');
    assert.equal(typeOf(text, 'blk.1.attn_norm.bias'), 'f32');
    assert.equal(typeOf(text, 'output.bias'), 'f32');
    assert.equal(typeOf(vision, 'v.patch_embd.weight'), 'f16');
    assert.equal(typeOf(vision, 'v.position_embd.weight'), 'f16');
    assert.deepEqual(vision.tensors.find((t) => t.name === 'v.patch_embd.weight')?.shape, [14, 14, 3, 64]);
  });

  it('q4_0: the output projection takes q6_K, or q8_0 when 256 does not divide its rows', async () => {
    const text = await readGgufInfo((await tinyPair('q4_0')).textPath);
    assert.equal(typeOf(text, 'token_embd.weight'), 'q4_0');
    assert.equal(typeOf(text, 'blk.0.ffn_down.weight'), 'q4_0');
    assert.equal(typeOf(text, 'output.weight'), 'q8_0');  // tiny rows are 128 wide; full size gets q6_K
    assert.equal(typeOf(text, 'blk.0.attn_norm.weight'), 'f32');
  });

  it('q4_K: rows 256 does not divide fall back to q5_0, as llama-quantize does', async () => {
    const text = await readGgufInfo((await tinyPair('q4_K')).textPath);
    assert.equal(typeOf(text, 'blk.0.ffn_down.weight'), 'q4_K');  // 512-wide rows
    assert.equal(typeOf(text, 'blk.0.attn_qkv.weight'), 'q5_0');  // 128-wide rows
  });

  it('q8_0 mmproj: the 80-wide (like 4304) fc2 rows stay f16', async () => {
    const vision = await readGgufInfo((await tinyPair('f16', 'q8_0')).mmprojPath);
    assert.equal(typeOf(vision, 'v.blk.0.ffn_up.weight'), 'q8_0');
    assert.equal(typeOf(vision, 'v.blk.0.ffn_down.weight'), 'f16');
    assert.equal(typeOf(vision, 'mm.2.weight'), 'q8_0');
    assert.equal(typeOf(vision, 'v.blk.0.attn_q.bias'), 'f32');
  });
});

describe('convert: a bf16 mmproj', () => {
  /** One tensor's bytes, from its offset in the data section. */
  const tensorBytes = (path: string, info: GgufInfo, name: string) => {
    const tensor = info.tensors.find((t) => t.name === name)!;
    return readFileSync(path).subarray(info.dataOffset + tensor.offset, info.dataOffset + tensor.offset + tensor.size);
  };

  it('matrices are the f32 values rounded to the nearest bf16 (ties to even), the rest as in an f16 mmproj; file type 32', async () => {
    const f32 = await tinyPair('f16', 'f32');
    const bf16 = await tinyPair('f16', 'bf16');
    assert.equal(basename(bf16.mmprojPath), 'moondream1-mmproj-bf16.gguf');
    const vision = await readGgufInfo(bf16.mmprojPath);
    assert.equal(valueOf(vision, 'general.file_type'), 32);  // llama.cpp's LLAMA_FTYPE_MOSTLY_BF16
    for (const name of ['v.blk.0.attn_q.weight', 'v.blk.0.ffn_up.weight', 'v.blk.0.ffn_down.weight', 'mm.0.weight', 'mm.2.weight']) {
      assert.equal(typeOf(vision, name), 'bf16', name);
    }
    assert.equal(typeOf(vision, 'v.patch_embd.weight'), 'f16');
    assert.equal(typeOf(vision, 'v.position_embd.weight'), 'f16');
    assert.equal(typeOf(vision, 'v.blk.0.attn_q.bias'), 'f32');
    // Rounding by hand from the f32 file's bits: add 0x7fff plus the kept part's lowest bit, keep the top half.
    const f32Info = await readGgufInfo(f32.mmprojPath);
    for (const name of ['v.blk.1.ffn_down.weight', 'mm.2.weight']) {
      const source = tensorBytes(f32.mmprojPath, f32Info, name);
      const words = new Uint32Array(source.buffer.slice(source.byteOffset, source.byteOffset + source.byteLength));
      const expected = Uint16Array.from(words, (w) => (w + 0x7fff + ((w >>> 16) & 1)) >>> 16);
      const written = tensorBytes(bf16.mmprojPath, vision, name);
      assert.deepEqual(new Uint16Array(written.buffer.slice(written.byteOffset, written.byteOffset + written.byteLength)), expected, name);
    }
  });
});

describe('convert: metadata', () => {
  it('text: phi2 keys, the phi-2 pre-tokenizer, 51,200 tokens, and the moondream1 profile', async () => {
    const text = await readGgufInfo((await tinyPair('f16')).textPath);
    assert.equal(valueOf(text, 'general.architecture'), 'phi2');
    assert.equal(valueOf(text, 'tokenizer.ggml.pre'), 'phi-2');
    assert.equal(valueOf(text, 'phi2.rope.dimension_count'), 32);
    assert.equal((valueOf(text, 'tokenizer.ggml.tokens') as string[]).length, 51200);
    assert.equal(valueOf(text, 'tokenizer.ggml.add_bos_token'), false);
    assert.deepEqual(valueOf(text, 'moondream.stop_token_ids'), [27, 10619, 29]);
    assert.equal(valueOf(text, 'moondream.max_new_tokens'), 256);
    assert.equal(valueOf(text, 'moondream.license'), 'research only, no commercial use');
    assert.equal(valueOf(text, 'moondream.prompt.template'), '<image>{image}</image>\n\n{history}Question: {question}\n\nAnswer: ');
  });

  it('mmproj: clip keys with every block run, and erf GELU with stretch resizing', async () => {
    const vision = await readGgufInfo((await tinyPair('f16')).mmprojPath);
    assert.equal(valueOf(vision, 'general.architecture'), 'clip');
    assert.equal(valueOf(vision, 'clip.projector_type'), 'mlp');
    assert.equal(valueOf(vision, 'clip.vision.block_count'), 2);
    assert.deepEqual(valueOf(vision, 'clip.vision.feature_layer'), [2]);
    assert.equal(valueOf(vision, 'moondream.vision.gelu'), 'erf');
    assert.equal(valueOf(vision, 'moondream.vision.resize'), 'stretch');
    assert.ok(vision.tensors.some((t) => t.name === 'v.blk.1.ffn_up.weight'));
    assert.ok(!vision.tensors.some((t) => t.name === 'v.blk.2.ln1.weight'));
  });

  it('the loader reads the profile back', async () => {
    const md = await Moondream.load(await tinyPair('q8_0').then((p) => ({ text: p.textPath, mmproj: p.mmprojPath })));
    try {
      assert.equal(md.info.prompt.name, 'moondream1');
      assert.deepEqual(md.info.prompt.stopTokenIds, [27, 10619, 29]);
      assert.equal(md.info.prompt.bosTokenId, 50256);
      assert.equal(md.info.vision?.gelu, 'erf');
      assert.equal(md.info.vision?.ffnNamesSwapped, false);
    } finally {
      md.dispose();
    }
  });
});
