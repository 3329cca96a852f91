// moondream1's tensor table and config files against the published checkpoint's facts (spec §5):
// 578 tensors, 1,857,482,608 parameters, a 3,715,037,856-byte model.safetensors (computed, not
// written), a 323-byte config.json and a 69-byte generation_config.json.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { moondream1ConfigJson, moondream1GenerationConfigJson } from '../../src/convert/moondream1-config.js';
import {
  MOONDREAM1_DIMS, MOONDREAM1_TINY_DIMS, moondream1TensorShapes, patchCount, patchInputSize,
} from '../../src/convert/moondream1-layout.js';
import { elementCount, safetensorsLayout } from '../../src/convert/safetensors-format.js';

const parameters = (shapes: { shape: readonly number[] }[]) => shapes.reduce((sum, t) => sum + elementCount(t.shape), 0);

describe('the moondream1 layout', () => {
  const full = moondream1TensorShapes(MOONDREAM1_DIMS);
  const byName = new Map(full.map((t) => [t.name, t.shape]));

  it('has 578 tensors and 1,857,482,608 parameters, split as spec §5.2 says', () => {
    assert.equal(full.length, 578);
    assert.equal(new Set(full.map((t) => t.name)).size, 578);
    assert.equal(parameters(full), 1_857_482_608);
    assert.equal(parameters(full.filter((t) => t.name.startsWith('vision_encoder.encoder.'))), 412_987_248);
    assert.equal(parameters(full.filter((t) => t.name.startsWith('vision_encoder.projection.'))), 26_224_640);
    assert.equal(parameters(full.filter((t) => t.name.startsWith('text_model.'))), 1_418_270_720);
  });

  it('has the shapes of spec §5.1', () => {
    const expected: [string, number[]][] = [
      ['vision_encoder.encoder.model.visual.patch_embed.linear.weight', [1152, 588]],
      ['vision_encoder.encoder.model.visual.pos_embed', [1, 729, 1152]],
      ['vision_encoder.encoder.model.visual.blocks.26.attn.qkv.weight', [3456, 1152]],
      ['vision_encoder.encoder.model.visual.blocks.0.mlp.fc1.weight', [4304, 1152]],
      ['vision_encoder.encoder.model.visual.blocks.13.mlp.fc2.weight', [1152, 4304]],
      ['vision_encoder.encoder.model.visual.norm.bias', [1152]],
      ['vision_encoder.projection.mlp.fc1.weight', [8192, 1152]],
      ['vision_encoder.projection.mlp.fc2.weight', [2048, 8192]],
      ['text_model.transformer.embd.wte.weight', [51200, 2048]],
      ['text_model.transformer.h.23.mixer.Wqkv.weight', [6144, 2048]],
      ['text_model.transformer.h.0.mixer.out_proj.bias', [2048]],
      ['text_model.transformer.h.5.mlp.fc2.weight', [2048, 8192]],
      ['text_model.lm_head.linear.weight', [51200, 2048]],
      ['text_model.lm_head.linear.bias', [51200]],
    ];
    for (const [name, shape] of expected) assert.deepEqual(byName.get(name), shape, name);
    assert.equal(byName.has('vision_encoder.encoder.model.visual.blocks.27.norm1.weight'), false);
    assert.equal(byName.has('text_model.transformer.h.24.ln.weight'), false);
  });

  it('reproduces the published file size exactly, as an all-F16 safetensors file', () => {
    const layout = safetensorsLayout(full.map(({ name, shape }) => ({ name, dtype: 'F16' as const, shape })));
    assert.equal(layout.header.length, 72_632);
    assert.equal(layout.dataByteLength, 3_714_965_216);
    assert.equal(layout.fileByteLength, 3_715_037_856);
  });

  it('gives the tiny model the same names, at 2 blocks and 2 layers, with the agreed dims', () => {
    const tiny = moondream1TensorShapes(MOONDREAM1_TINY_DIMS);
    // The same names, in the same order, for the 2 vision blocks and 2 text layers it has.
    const inTiny = (name: string) => !/\.(blocks|h)\.([2-9]|\d\d)\./.test(name);
    assert.deepEqual(tiny.map((t) => t.name), full.map((t) => t.name).filter(inTiny));
    assert.equal(tiny.length, 58);
    const tinyByName = new Map(tiny.map((t) => [t.name, t.shape]));
    assert.deepEqual(tinyByName.get('vision_encoder.encoder.model.visual.patch_embed.linear.weight'), [64, 588]);
    assert.deepEqual(tinyByName.get('vision_encoder.encoder.model.visual.pos_embed'), [1, 729, 64]);
    assert.deepEqual(tinyByName.get('vision_encoder.encoder.model.visual.blocks.1.attn.qkv.weight'), [192, 64]);
    assert.deepEqual(tinyByName.get('vision_encoder.encoder.model.visual.blocks.1.mlp.fc1.weight'), [80, 64]);
    assert.deepEqual(tinyByName.get('vision_encoder.projection.mlp.fc1.weight'), [256, 64]);
    assert.deepEqual(tinyByName.get('vision_encoder.projection.mlp.fc2.weight'), [128, 256]);
    assert.deepEqual(tinyByName.get('text_model.transformer.embd.wte.weight'), [51200, 128]);
    assert.deepEqual(tinyByName.get('text_model.transformer.h.1.mixer.Wqkv.weight'), [384, 128]);
    assert.deepEqual(tinyByName.get('text_model.transformer.h.1.mlp.fc1.weight'), [512, 128]);
    assert.deepEqual(tinyByName.get('text_model.lm_head.linear.weight'), [51200, 128]);
    assert.equal(MOONDREAM1_TINY_DIMS.vision.hiddenSize / MOONDREAM1_TINY_DIMS.vision.numHeads, 32);
    assert.equal(MOONDREAM1_TINY_DIMS.text.nEmbd / MOONDREAM1_TINY_DIMS.text.nHead, 64);
    assert.equal(patchInputSize(MOONDREAM1_TINY_DIMS.vision), 588);
    assert.equal(patchCount(MOONDREAM1_TINY_DIMS.vision), 729);
  });
});

describe('the moondream1 config files', () => {
  it('writes the reconstructed 323-byte config.json for the real dims', () => {
    const text = moondream1ConfigJson(MOONDREAM1_DIMS, { explicitDims: false });
    assert.equal(Buffer.byteLength(text), 323);
    assert.ok(text.startsWith('{\n  "architectures": [\n    "Moondream"\n  ],\n  "auto_map": {\n'));
    assert.ok(text.endsWith('  "torch_dtype": "float16",\n  "transformers_version": "4.36.2"\n}\n'));
    assert.deepEqual(JSON.parse(text).phi_config, { model_type: 'phi-msft' });
  });

  it('writes the 69-byte generation_config.json', () => {
    assert.equal(moondream1GenerationConfigJson(), '{\n  "_from_model_config": true,\n  "transformers_version": "4.36.2"\n}\n');
    assert.equal(Buffer.byteLength(moondream1GenerationConfigJson()), 69);
  });

  it('states every dim when asked to (the tiny model)', () => {
    const config = JSON.parse(moondream1ConfigJson(MOONDREAM1_TINY_DIMS, { explicitDims: true })) as Record<string, unknown>;
    assert.deepEqual(config.phi_config, {
      layer_norm_epsilon: 1e-5, model_type: 'phi-msft', n_embd: 128, n_head: 2, n_inner: 512, n_layer: 2,
      n_positions: 2048, rotary_dim: 32, vocab_size: 51200,
    });
    assert.deepEqual(config.vision_config, {
      hidden_size: 64, image_size: 378, intermediate_size: 80, layer_norm_eps: 1e-6, num_attention_heads: 2,
      num_hidden_layers: 2, patch_size: 14, projection_intermediate_size: 256,
    });
    assert.equal(config.model_type, 'moondream1');
  });
});
