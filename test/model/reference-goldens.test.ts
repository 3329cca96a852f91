// The runtime against an independent reference: scripts/golden/reference_forward.py is a numpy
// forward of moondream1 written from the spec alone (not from our C++), and its outputs for the
// seeded tiny checkpoint are stored under test/fixtures/golden. Agreement to 1e-4 relative (the
// fp32 reference itself is within ~6e-7 of a float64 run) means both sides implement the same math.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { convertCheckpoint } from '../../src/convert/convert.js';
import { EncodedImage } from '../../src/encoded-image.js';
import { Moondream } from '../../src/moondream.js';
import { writeMoondream1Checkpoint } from '../../scripts/lib/moondream1-checkpoint.js';
import { tempDir } from '../helpers/temp-dir.js';

const GOLDEN_DIR = fileURLToPath(new URL('../../../test/fixtures/golden/', import.meta.url));
const REGENERATE = 'npm run make-checkpoint -- --size tiny --seed 7 --out /tmp/x && /usr/bin/python3 scripts/golden/reference_forward.py /tmp/x test/fixtures/golden';

/** max |ours - ref| / max |ref|: one scale for the whole vector, so near-zero entries don't dominate. */
const TOLERANCE = 1e-4;

interface Reference {
  checkpoint: { size: 'tiny'; seed: number; modelSha256: string };
  textPrompts: Record<string, number[]>;
  mixed: { before: number[]; after: number[]; imageRows: number };
  pixels: { formula: string; sha256: string };
  logits: Record<string, string>;
  vision: { file: string; rows: number; width: number };
}

const reference = JSON.parse(readFileSync(join(GOLDEN_DIR, 'reference.json'), 'utf8')) as Reference;

function readGolden(file: string): Float32Array {
  const bytes = gunzipSync(readFileSync(join(GOLDEN_DIR, file)));
  // Copy into an aligned buffer: the gunzip result may sit at any byte offset of a shared pool.
  // The goldens are little-endian, as is every platform this package builds for.
  const values = new Float32Array(bytes.length / 4);
  new Uint8Array(values.buffer).set(bytes);
  return values;
}

function maxRelativeError(ours: Float32Array, ref: Float32Array): number {
  assert.equal(ours.length, ref.length, 'length');
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < ref.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(ours[i]! - ref[i]!));
    maxRef = Math.max(maxRef, Math.abs(ref[i]!));
  }
  return maxDiff / maxRef;
}

/** The synthetic image of reference.json's formula; double arithmetic, then rounded to float32. */
function syntheticPixels(size: number): Float32Array {
  const pixels = new Float32Array(3 * size * size);
  let i = 0;
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) pixels[i++] = Math.fround(Math.sin(0.37 * c + 0.011 * y * 1.3 + 0.017 * x) * 0.9);
    }
  }
  return pixels;
}

const sha256 = (bytes: Uint8Array | string): string => createHash('sha256').update(bytes).digest('hex');

describe('the runtime against the numpy reference goldens (tiny checkpoint, f32)', () => {
  const dir = tempDir();
  let model: Moondream | undefined;

  before(async () => {
    const checkpoint = join(dir, 'checkpoint');
    const files = await writeMoondream1Checkpoint({ size: 'tiny', seed: reference.checkpoint.seed, outDir: checkpoint });
    // A different file would make every comparison below meaningless, and the failure would look
    // like a runtime bug; name the real cause instead.
    const actual = sha256(readFileSync(files.model));
    if (actual !== reference.checkpoint.modelSha256) {
      throw new Error(`The checkpoint generator changed; regenerate the goldens (${REGENERATE}). ` +
        `model.safetensors for seed ${reference.checkpoint.seed} has sha256 ${actual}, the goldens were made from ${reference.checkpoint.modelSha256}.`);
    }
    const converted = join(dir, 'gguf');
    await convertCheckpoint({ checkpointDir: checkpoint, outDir: converted, textType: 'f32', visionType: 'f32' });
    // f32 KV cache and the f32 tanh GELU: the configuration meant to match the fp32 reference.
    model = await Moondream.load(converted, { kvCacheType: 'f32', gelu: 'exact', threads: 2 });
  });

  after(() => model?.dispose());

  for (const [name, tokens] of Object.entries(reference.textPrompts)) {
    it(`gives the reference's last-position logits for the ${tokens.length}-token prompt "${name}"`, async (t) => {
      const file = reference.logits[name];
      assert.ok(file, `reference.json names no logits file for ${name}`);
      const ref = readGolden(file);
      const ours = await model!.evaluate(tokens);
      const error = maxRelativeError(ours, ref);
      t.diagnostic(`${name}: max relative error ${error.toExponential(3)}`);
      assert.ok(error <= TOLERANCE, `${name}: max |ours - ref| / max |ref| = ${error.toExponential(3)} > ${TOLERANCE}`);
    });
  }

  it('gives the reference\'s image embeddings for the synthetic image', async (t) => {
    const pixels = syntheticPixels(378);
    // Both sides compute the pixels; a libm sin that disagreed by an ulp would show up here first.
    assert.equal(sha256(new Uint8Array(pixels.buffer)), reference.pixels.sha256,
      `the synthetic pixels differ from the ones the goldens used (${reference.pixels.formula})`);
    const ref = readGolden(reference.vision.file);
    const ours = await model!.encodePixels(pixels);
    assert.equal(ours.rows, reference.vision.rows);
    assert.equal(ours.width, reference.vision.width);
    const error = maxRelativeError(ours.embeddings, ref);
    t.diagnostic(`vision: max relative error ${error.toExponential(3)}`);
    assert.ok(error <= TOLERANCE, `vision: max |ours - ref| / max |ref| = ${error.toExponential(3)} > ${TOLERANCE}`);
  });

  it('gives the reference\'s last-position logits for the mixed token + image-row sequence', async (t) => {
    // BOS, "<image>", the reference's own 729 image rows, then the question tail: 753 positions.
    const rows = readGolden(reference.vision.file);
    const image = new EncodedImage(rows, reference.vision.rows, reference.vision.width,
      { preprocessMs: 0, encodeMs: 0, totalMs: 0 }, model!, 0);
    const ref = readGolden(reference.logits.mixed!);
    const ours = await model!.evaluate([...reference.mixed.before, ...reference.mixed.after],
      { image, imageAt: reference.mixed.before.length });
    const error = maxRelativeError(ours, ref);
    t.diagnostic(`mixed: max relative error ${error.toExponential(3)}`);
    assert.ok(error <= TOLERANCE, `mixed: max |ours - ref| / max |ref| = ${error.toExponential(3)} > ${TOLERANCE}`);
  });
});
