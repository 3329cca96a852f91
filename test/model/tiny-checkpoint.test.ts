// The seeded tiny checkpoint: byte-identical for a seed (through the function and the npm script),
// different for another seed, in moondream1's exact layout, with weights drawn at the intended scales.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { MOONDREAM1_TINY_DIMS, moondream1TensorShapes } from '../../src/convert/moondream1-layout.js';
import { SafetensorsFile } from '../../src/convert/safetensors.js';
import { writeMoondream1Checkpoint } from '../../scripts/lib/moondream1-checkpoint.js';
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

  it('holds exactly the layout table, all F16, with pt metadata', async () => {
    const file = await SafetensorsFile.open(join(first, 'model.safetensors'));
    try {
      const expected = moondream1TensorShapes(MOONDREAM1_TINY_DIMS);
      assert.equal(file.tensors.size, expected.length);
      assert.deepEqual(new Set(file.tensors.keys()), new Set(expected.map((t) => t.name)));
      for (const { name, shape } of expected) {
        const info = file.tensors.get(name)!;
        assert.deepEqual(info.shape, shape, name);
        assert.equal(info.dtype, 'F16', name);
      }
      assert.deepEqual(file.metadata, { format: 'pt' });
    } finally {
      await file.close();
    }
    const config = JSON.parse(readFileSync(join(first, 'config.json'), 'utf8')) as { phi_config: { n_embd: number }; vision_config: { hidden_size: number } };
    assert.equal(config.phi_config.n_embd, 128);
    assert.equal(config.vision_config.hidden_size, 64);
    const tokenizer = JSON.parse(readFileSync(join(first, 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> } };
    assert.equal(tokenizer.model.vocab['<|endoftext|>'], 50256);
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
