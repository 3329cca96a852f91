// md.encodeImage: decode + Pillow-exact preprocessing + the vision tower, in one call.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EncodedImage, Moondream, preprocessImage } from '../../src/index.js';
import { tinyPair } from '../helpers/tiny-model.js';

const fixture = fileURLToPath(new URL('../../../test/fixtures/images/smooth_600x450.png', import.meta.url));

describe('Moondream.encodeImage', () => {
  it('gives 729 rows of the text width, equal to encoding the preprocessed pixels', async () => {
    const pair = await tinyPair('f16', 'f16');
    const md = await Moondream.load({ text: pair.textPath, mmproj: pair.mmprojPath }, { threads: 2 });
    try {
      const image = await md.encodeImage(readFileSync(fixture));
      assert.ok(image instanceof EncodedImage);
      assert.equal(image.rows, 729);
      assert.equal(image.width, 128);
      assert.equal(image.embeddings.length, 729 * 128);
      assert.ok(image.timings.encodeMs > 0 && image.timings.totalMs >= image.timings.encodeMs);
      const direct = await md.encodePixels(await preprocessImage(fixture));
      assert.deepEqual(image.embeddings, direct.embeddings);
    } finally {
      md.dispose();
    }
  });

  it('refuses without an mmproj, and honours an already aborted signal', async () => {
    const pair = await tinyPair('f16', 'f16');
    const textOnly = await Moondream.load({ text: pair.textPath });
    await assert.rejects(textOnly.encodeImage(fixture), { code: 'ERR_INVALID_ARGUMENT', message: /without its mmproj/ });
    textOnly.dispose();
    const md = await Moondream.load({ text: pair.textPath, mmproj: pair.mmprojPath });
    await assert.rejects(md.encodeImage(fixture, { signal: AbortSignal.abort() }), { code: 'ERR_ABORTED' });
    await assert.rejects(md.encodeImage(Buffer.from('not an image')), { code: 'ERR_IMAGE_DECODE' });
    md.dispose();
  });
});
