// Decode + resize against Pillow on every committed fixture: the uint8 378x378 image must equal
// moondream1's PIL convert("RGB").resize((378, 378), BICUBIC) byte for byte, and the float
// output must be the normalisation table applied to it, in CHW order.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { decodeImage } from '../../src/image.js';
import { preprocessImage, resizeRgb } from '../../src/preprocess.js';
import {
  IMAGE_FIXTURES, compareRgb, fixtureBytes, imageManifest, readGolden, type ImageFixture,
} from '../helpers/image-fixtures.js';

const manifest = imageManifest();
const [side] = manifest.target;
const lut = (JSON.parse(readFileSync(IMAGE_FIXTURES + 'normalisation-lut.json', 'utf8')) as { values: number[] }).values;

function describeFixture(fixture: ImageFixture): string {
  return `${fixture.file} (${fixture.format} ${fixture.pilMode} ${fixture.width}x${fixture.height}): ${fixture.note}`;
}

/** Checks a preprocessImage result against LUT[golden] in CHW order; returns a problem or ''. */
function checkNormalised(out: Float32Array, golden: Uint8Array): string {
  const plane = side * side;
  if (out.length !== 3 * plane) return `length ${out.length}`;
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      const want = Math.fround(lut[golden[i * 3 + c]!]!);
      if (out[c * plane + i] !== want) return `pixel ${i} channel ${c}: ${out[c * plane + i]} != ${want}`;
    }
  }
  return '';
}

describe('image preprocessing matches Pillow on every fixture', () => {
  for (const fixture of manifest.fixtures.filter((f) => f.fullSize === undefined)) {
    it(describeFixture(fixture), async () => {
      const golden = readGolden(fixture.golden, side, side, fixture.sha256);
      const decoded = await decodeImage(fixtureBytes(fixture.file));
      assert.deepEqual([decoded.width, decoded.height], [fixture.width, fixture.height]);
      const resized = await resizeRgb(decoded.data, decoded.width, decoded.height, side, side);
      const diff = compareRgb(resized, golden, side);
      assert.equal(diff.max, 0,
        `${fixture.file}: max abs diff ${diff.max} over ${diff.count} values; first at ${diff.first}` +
        (fixture.reason ? ` (golden is not Pillow's own output: ${fixture.reason})` : ''));
      assert.equal(checkNormalised(await preprocessImage(fixtureBytes(fixture.file)), golden), '');
    });
  }

  // Reachable only in part (see the manifest's reason): the opaque pixels must match Pillow at
  // full size, and the transparent ones come out black, which is what we document.
  for (const fixture of manifest.fixtures.filter((f) => f.fullSize !== undefined)) {
    it(`${describeFixture(fixture)}, full size`, async () => {
      const full = fixture.fullSize!;
      const golden = readGolden(full.golden, fixture.width, fixture.height, full.sha256);
      const mask = full.transparentMask ? gunzipSync(readFileSync(IMAGE_FIXTURES + full.transparentMask)) : undefined;
      const decoded = await decodeImage(fixtureBytes(fixture.file));
      assert.deepEqual([decoded.width, decoded.height], [fixture.width, fixture.height]);
      let opaqueDiffs = 0;
      let transparentNotBlack = 0;
      for (let p = 0; p < fixture.width * fixture.height; p++) {
        for (let c = 0; c < 3; c++) {
          const got = decoded.data[p * 3 + c]!;
          if (mask && mask[p]) transparentNotBlack += got === 0 ? 0 : 1;
          else opaqueDiffs += got === golden[p * 3 + c] ? 0 : 1;
        }
      }
      assert.equal(opaqueDiffs, 0, `${fixture.file}: ${opaqueDiffs} values differ from Pillow on opaque pixels`);
      assert.equal(transparentNotBlack, 0, `${fixture.file}: transparent pixels are expected to decode as black`);
      if (fixture.exact) {
        const resized = await resizeRgb(decoded.data, decoded.width, decoded.height, side, side);
        const diff = compareRgb(resized, readGolden(fixture.golden, side, side, fixture.sha256), side);
        assert.equal(diff.max, 0, `${fixture.file}: max abs diff ${diff.max} over ${diff.count} values; first at ${diff.first}`);
      }
    });
  }
});

describe('the resampler alone matches Pillow at other sizes', () => {
  for (const c of manifest.resizeCases) {
    it(`${c.source} to ${c.width}x${c.height}`, async () => {
      const decoded = await decodeImage(fixtureBytes(c.source));
      const resized = await resizeRgb(decoded.data, decoded.width, decoded.height, c.width, c.height);
      const diff = compareRgb(resized, readGolden(c.golden, c.width, c.height, c.sha256), c.width);
      assert.equal(diff.max, 0, `max abs diff ${diff.max} over ${diff.count} values; first at ${diff.first}`);
    });
  }
});
