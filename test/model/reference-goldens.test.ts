// The runtime against an independent reference: scripts/golden/reference_forward.py is a numpy
// forward of moondream1 written from the spec alone (not from our C++), and its outputs for the
// seeded tiny checkpoint are stored under test/fixtures/golden. Agreement to 1e-6 relative (the
// fp32 reference itself is within 6.1e-7 of a float64 run) means both sides implement the same
// math and round like fp32 does. The reference was written in this project, from the spec: it is
// independent of the C++ code, not of our reading of the spec.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { convertCheckpoint } from '../../src/convert/convert.js';
import { EncodedImage } from '../../src/encoded-image.js';
import { Moondream } from '../../src/moondream.js';
import { writeMoondream1Checkpoint } from '../../scripts/lib/moondream1-checkpoint.js';
import { REFERENCE_MAX_RELATIVE_ERROR as TOLERANCE } from '../helpers/agreement-bounds.js';
import {
  assertGoldenCheckpoint, maxRelativeError, readGolden, reference, syntheticPixels,
} from '../helpers/reference-goldens.js';
import { tempDir } from '../helpers/temp-dir.js';

describe('the runtime against the numpy reference goldens (tiny checkpoint, f32)', () => {
  const dir = tempDir();
  let model: Moondream | undefined;

  before(async () => {
    const checkpoint = join(dir, 'checkpoint');
    const files = await writeMoondream1Checkpoint({ size: 'tiny', seed: reference.checkpoint.seed, outDir: checkpoint });
    assertGoldenCheckpoint(files.model);
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
