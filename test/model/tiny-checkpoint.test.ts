// The seeded tiny checkpoint: byte-identical for a seed (through the function and the npm script),
// different for another seed, in moondream1's exact layout (held to an independent transcription of
// spec §5.1, not to the table the generator iterates), with weights drawn at the intended scales.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SafetensorsFile } from '../../src/convert/safetensors.js';
import { writeMoondream1Checkpoint } from '../../scripts/lib/moondream1-checkpoint.js';
import { SPEC_REAL_CONFIG, specTensorShapes, type SpecConfig } from '../helpers/moondream1-spec-layout.js';
import { tempDir } from '../helpers/temp-dir.js';

const FILES = ['model.safetensors', 'tokenizer.json', 'config.json', 'generation_config.json'];
const script = fileURLToPath(new URL('../../scripts/make-checkpoint.js', import.meta.url));
const dir = tempDir();

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const digests = (out: string) => Object.fromEntries(FILES.map((f) => [f, sha256(join(out, f))]));

function stats(values: Float32Array): { mean: number; std: number } {
  let sum = 0;
  let squares = 0;
  for (const v of values) {
    sum += v;
    squares += v * v;
  }
  const mean = sum / values.length;
  return { mean, std: Math.sqrt(squares / values.length - mean * mean) };
}

describe('the tiny generated checkpoint', () => {
  const first = join(dir, 'seed-7-a');
  const second = join(dir, 'seed-7-b');
  const other = join(dir, 'seed-8');
  before(async () => {
    await writeMoondream1Checkpoint({ size: 'tiny', seed: 7, outDir: first });
    await promisify(execFile)(process.execPath, [script, '--size', 'tiny', '--seed', '7', '--out', second]);
    await writeMoondream1Checkpoint({ size: 'tiny', seed: 8, outDir: other });
  });

  it('is byte-identical for the same seed (function and npm script) and differs for another', async () => {
    assert.deepEqual(digests(second), digests(first));
    const changed = digests(other);
    assert.notEqual(changed['model.safetensors'], digests(first)['model.safetensors']);
    assert.equal(changed['config.json'], digests(first)['config.json']);
  });

  it('holds exactly the tensors of spec §5.1 at the dims its config.json states, all F16, with pt metadata', async () => {
    const config = JSON.parse(readFileSync(join(first, 'config.json'), 'utf8')) as {
      model_type: string; phi_config: Record<string, number | string>; vision_config: Record<string, number>;
    };
    // The tiny model's agreed dims, written out here rather than taken from MOONDREAM1_TINY_DIMS.
    assert.equal(config.model_type, 'moondream1');
    assert.deepEqual(config.phi_config, {
      layer_norm_epsilon: 1e-5, model_type: 'phi-msft', n_embd: 128, n_head: 2, n_inner: 512, n_layer: 2,
      n_positions: 2048, rotary_dim: 32, vocab_size: 51200,
    });
    assert.deepEqual(config.vision_config, {
      hidden_size: 64, image_size: 378, intermediate_size: 80, layer_norm_eps: 1e-6, num_attention_heads: 2,
      num_hidden_layers: 2, patch_size: 14, projection_intermediate_size: 256,
    });
    const spec: SpecConfig = {
      ...(config.vision_config as unknown as SpecConfig), ...(config.phi_config as unknown as SpecConfig),
    };
    const expected = specTensorShapes(spec);
    // Counted from spec §5.1's rows: 5 + 12 per vision block, 4 projection, 5 + 10 per text layer.
    assert.equal(expected.size, 5 + 12 * 2 + 4 + 5 + 10 * 2);

    const file = await SafetensorsFile.open(join(first, 'model.safetensors'));
    try {
      assert.deepEqual([...file.tensors.keys()].sort(), [...expected.keys()].sort());
      for (const [name, shape] of expected) {
        const info = file.tensors.get(name)!;
        assert.deepEqual(info.shape, shape, name);
        assert.equal(info.dtype, 'F16', name);
      }
      assert.deepEqual(file.metadata, { format: 'pt' });
    } finally {
      await file.close();
    }
    const tokenizer = JSON.parse(readFileSync(join(first, 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> } };
    assert.equal(tokenizer.model.vocab['<|endoftext|>'], 50256);
  });

  it('uses a transcription of spec §5.1 that reproduces spec §5.2 at the real dims', () => {
    // The table the previous test holds the checkpoint to, checked against the spec's own totals.
    const real = specTensorShapes(SPEC_REAL_CONFIG);
    const params = (prefix: string) => [...real].filter(([name]) => name.startsWith(prefix))
      .reduce((sum, [, shape]) => sum + shape.reduce((a, b) => a * b, 1), 0);
    assert.equal(real.size, 578);
    assert.equal(params(''), 1_857_482_608);
    assert.equal(params('vision_encoder.encoder.'), 412_987_248);
    assert.equal(params('vision_encoder.projection.'), 26_224_640);
    assert.equal(params('text_model.'), 1_418_270_720);
  });

  it('draws each kind of tensor at its intended scale', async () => {
    const file = await SafetensorsFile.open(join(first, 'model.safetensors'));
    try {
      const expect = async (name: string, mean: number, std: number) => {
        const s = stats(await file.readAsFloat32(name));
        assert.ok(Math.abs(s.mean - mean) < 0.1 * std + 0.005, `${name}: mean ${s.mean}, expected ${mean}`);
        assert.ok(Math.abs(s.std / std - 1) < 0.15, `${name}: std ${s.std}, expected ${std}`);
      };
      await expect('text_model.transformer.embd.wte.weight', 0, 1);
      await expect('text_model.lm_head.linear.weight', 0, 5 / Math.sqrt(128));
      await expect('text_model.lm_head.ln.weight', 1, 0.02);
      await expect('text_model.transformer.h.0.ln.bias', 0, 0.02);
      await expect('text_model.transformer.h.1.mixer.Wqkv.weight', 0, 1 / Math.sqrt(128));
      await expect('text_model.transformer.h.1.mixer.out_proj.weight', 0, 0.5 / Math.sqrt(128));
      await expect('text_model.transformer.h.0.mlp.fc2.weight', 0, 0.5 / Math.sqrt(512));
      await expect('vision_encoder.encoder.model.visual.pos_embed', 0, 0.5);
      await expect('vision_encoder.encoder.model.visual.patch_embed.linear.weight', 0, 1 / Math.sqrt(588));
      await expect('vision_encoder.encoder.model.visual.blocks.0.norm1.weight', 1, 0.02);
      await expect('vision_encoder.encoder.model.visual.blocks.1.mlp.fc2.weight', 0, 0.5 / Math.sqrt(80));
      await expect('vision_encoder.projection.mlp.fc2.weight', 0, 1.5 / Math.sqrt(256));
    } finally {
      await file.close();
    }
  });
});
