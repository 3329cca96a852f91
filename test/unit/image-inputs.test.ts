// The ways an image can be given, option checks, AVIF, and the normalisation table.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { MoondreamError, preprocessImage } from '../../src/index.js';
import { addon } from '../../src/binding.js';
import { decodeImage } from '../../src/image.js';
import { resizeRgb } from '../../src/preprocess.js';
import { IMAGE_FIXTURES, compareRgb, fixtureBytes, imageManifest, readGolden } from '../helpers/image-fixtures.js';

const manifest = imageManifest();
const SIDE = 378;
/** moondream1's preprocessing values, as its mmproj states them. */
const MOONDREAM1 = { imageSize: SIDE, imageMean: [0.5, 0.5, 0.5], imageStd: [0.5, 0.5, 0.5] };
const photo = manifest.fixtures.find((f) => f.file === 'photo_320x240_q90.jpg')!;
const photoGolden = readGolden(photo.golden, SIDE, SIDE, photo.sha256);
const lut = (JSON.parse(readFileSync(IMAGE_FIXTURES + 'normalisation-lut.json', 'utf8')) as { values: number[] }).values;

async function resizedPhoto(input: Parameters<typeof decodeImage>[0]): Promise<Uint8Array> {
  const decoded = await decodeImage(input);
  return resizeRgb(decoded.data, decoded.width, decoded.height, SIDE, SIDE);
}

async function rejectsWith(promise: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof MoondreamError, `not a MoondreamError: ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (message) assert.match(error.message, message);
    return true;
  });
}

describe('image inputs', () => {
  const bytes = fixtureBytes(photo.file);

  it('accepts a path, a Buffer, a Uint8Array view, an ArrayBuffer and sharp instances of both builds', async () => {
    const padded = new Uint8Array(bytes.length + 10);
    padded.set(bytes, 7);
    const arrayBuffer = new Uint8Array(bytes).buffer;
    const sharpCjs = createRequire(import.meta.url)('sharp') as typeof sharp;
    const inputs: Array<[string, Parameters<typeof decodeImage>[0]]> = [
      ['path', IMAGE_FIXTURES + photo.file],
      ['Buffer', bytes],
      ['Uint8Array view with an offset', padded.subarray(7, 7 + bytes.length)],
      ['ArrayBuffer', arrayBuffer],
      ['sharp (ES module build)', sharp(bytes)],
      ['sharp (CommonJS build)', sharpCjs(bytes)],
    ];
    for (const [label, input] of inputs) {
      const diff = compareRgb(await resizedPhoto(input), photoGolden, SIDE);
      assert.equal(diff.max, 0, `${label}: max diff ${diff.max}, first at ${diff.first}`);
    }
  });

  it('decodes AVIF (lossless, made here by sharp) exactly like the PNG it came from', async () => {
    const png = manifest.fixtures.find((f) => f.file === 'grad_checker_64x48.png')!;
    const avif = await sharp(fixtureBytes(png.file)).avif({ lossless: true }).toBuffer();
    const diff = compareRgb(await resizedPhoto(avif), readGolden(png.golden, SIDE, SIDE, png.sha256), SIDE);
    assert.equal(diff.max, 0, `max diff ${diff.max}, first at ${diff.first}`);
  });

  it('rejects inputs of the wrong type with ERR_INVALID_ARGUMENT', async () => {
    for (const input of [42, null, undefined, {}, [1, 2, 3], '', new Uint16Array(4), new DataView(new ArrayBuffer(4)), () => 0]) {
      await rejectsWith(preprocessImage(input as unknown as string), 'ERR_INVALID_ARGUMENT', /Expected .* for image but received/);
    }
  });

  it('reports a missing file or a directory as ERR_IO', async () => {
    await rejectsWith(preprocessImage(IMAGE_FIXTURES + 'no-such-image.png'), 'ERR_IO', /no-such-image\.png/);
    await rejectsWith(preprocessImage(IMAGE_FIXTURES), 'ERR_IO', /not a regular file/);
  });

  it('validates options', async () => {
    for (const options of [null, 5, 'big', []]) {
      await rejectsWith(preprocessImage(bytes, options as unknown as object), 'ERR_INVALID_ARGUMENT', /for options but received/);
    }
    for (const maxPixels of [0, -1, 1.5, '100', Number.POSITIVE_INFINITY, Number.NaN]) {
      await rejectsWith(preprocessImage(bytes, { maxPixels: maxPixels as number }), 'ERR_INVALID_ARGUMENT', /options\.maxPixels/);
    }
  });

  it('applies maxPixels to the header: the exact pixel count passes, one less fails', async () => {
    const wide = fixtureBytes('smooth_600x450.png');
    assert.equal((await preprocessImage(wide, { maxPixels: 600 * 450 })).length, 3 * SIDE * SIDE);
    await rejectsWith(preprocessImage(wide, { maxPixels: 600 * 450 - 1 }), 'ERR_IMAGE_DECODE', /600x450 = 270000 pixels.*maxPixels/);
    await rejectsWith(preprocessImage(sharp(wide), { maxPixels: 600 * 450 - 1 }), 'ERR_IMAGE_DECODE', /maxPixels/);
  });

  it('counts an image narrower than 378 as 378 wide, since resizing it costs that much', async () => {
    assert.equal((await preprocessImage(bytes, { maxPixels: SIDE * 240 })).length, 3 * SIDE * SIDE);
    await rejectsWith(preprocessImage(bytes, { maxPixels: SIDE * 240 - 1 }), 'ERR_IMAGE_DECODE',
      /320x240: narrower than 378 pixels, it is resized as 378x240 = 90720 pixels.*maxPixels/);
  });
});

describe('normalisation', () => {
  it('equals torch (x * fround(1/255) - 0.5) / 0.5 in float32 for all 256 values, in CHW order', async () => {
    assert.equal(lut.length, 256);
    // A 378x378 image needs no resampling, so the output is the table applied to the input.
    const rgb = new Uint8Array(SIDE * SIDE * 3);
    for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 7 + (i % 3) * 101) & 255;
    const out = await addon().preprocessRgb(rgb, SIDE, SIDE, MOONDREAM1);
    const plane = SIDE * SIDE;
    const seen = new Set<number>();
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) {
        const v = rgb[p * 3 + c]!;
        seen.add(v);
        if (out[c * plane + p] !== Math.fround(lut[v]!)) {
          assert.fail(`value ${v} at pixel ${p} channel ${c}: ${out[c * plane + p]} != ${lut[v]}`);
        }
      }
    }
    assert.equal(seen.size, 256);
    assert.equal(out[0], -1);
    assert.equal(Math.min(...lut), -1);
    assert.equal(Math.max(...lut), 1);
  });
});

describe('preprocessing with a model\'s own side, mean and std', () => {
  // The oracle: torch's float32 arithmetic, (v * fround(1/255) - mean) / std with mean and std as
  // float32, each step rounded to float32 (exact: double rounding is harmless for one operation).
  const torchNormalise = (v: number, mean: number, std: number): number =>
    Math.fround(Math.fround(Math.fround(v * Math.fround(1 / 255)) - Math.fround(mean)) / Math.fround(std));

  it('resizes to imageSize and normalises each channel with its mean and std, bit for bit', async () => {
    const options = { imageSize: 224, imageMean: [0.48145466, 0.4578275, 0.40821073], imageStd: [0.26862954, 0.26130258, 0.27577711] };
    const out = await preprocessImage(fixtureBytes(photo.file), options);
    const decoded = await decodeImage(fixtureBytes(photo.file));
    const resized = await resizeRgb(decoded.data, decoded.width, decoded.height, 224, 224);
    const plane = 224 * 224;
    assert.equal(out.length, 3 * plane);
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) {
        const expected = torchNormalise(resized[p * 3 + c]!, options.imageMean[c]!, options.imageStd[c]!);
        if (out[c * plane + p] !== expected) assert.fail(`pixel ${p} channel ${c}: ${out[c * plane + p]} != ${expected}`);
      }
    }
  });

  it('defaults to moondream1 (378, 0.5, 0.5), and the oracle reproduces the committed table for those', async () => {
    assert.deepEqual(await preprocessImage(fixtureBytes(photo.file)), await preprocessImage(fixtureBytes(photo.file), MOONDREAM1));
    for (let v = 0; v < 256; v++) assert.equal(torchNormalise(v, 0.5, 0.5), Math.fround(lut[v]!), `value ${v}`);
  });

  it('validates the values in TypeScript', async () => {
    const bytes = fixtureBytes(photo.file);
    await rejectsWith(preprocessImage(bytes, { imageSize: 0 }), 'ERR_INVALID_ARGUMENT', /options\.imageSize/);
    await rejectsWith(preprocessImage(bytes, { imageSize: 4097 }), 'ERR_INVALID_ARGUMENT', /options\.imageSize/);
    await rejectsWith(preprocessImage(bytes, { imageMean: [0.5, 0.5] }), 'ERR_INVALID_ARGUMENT', /options\.imageMean/);
    await rejectsWith(preprocessImage(bytes, { imageStd: [0.5, -1, 0.5] }), 'ERR_INVALID_ARGUMENT', /options\.imageStd/);
    await rejectsWith(preprocessImage(bytes, { imageMean: [0.5, Infinity, 0.5] }), 'ERR_INVALID_ARGUMENT', /options\.imageMean/);
  });

  it('counts a narrow image as wide as the model\'s input against maxPixels', async () => {
    const bytes = fixtureBytes(photo.file);  // 320x240
    await rejectsWith(preprocessImage(bytes, { imageSize: 400, maxPixels: 400 * 240 - 1 }), 'ERR_IMAGE_DECODE', /resized as 400x240/);
    assert.equal((await preprocessImage(bytes, { imageSize: 400, maxPixels: 400 * 240 })).length, 3 * 400 * 400);
  });
});

describe('native preprocessing arguments', () => {
  it('rejects bad sizes and buffers with ERR_INVALID_ARGUMENT instead of reading out of bounds', async () => {
    const rgb = new Uint8Array(12);
    const cases: Array<[string, () => Promise<unknown>]> = [
      ['short buffer', () => addon().preprocessRgb(rgb, 3, 2, MOONDREAM1)],
      ['long buffer', () => addon().preprocessRgb(rgb, 1, 1, MOONDREAM1)],
      ['zero width', () => addon().preprocessRgb(new Uint8Array(0), 0, 4, MOONDREAM1)],
      ['negative height', () => addon().preprocessRgb(rgb, 4, -1, MOONDREAM1)],
      ['fractional width', () => addon().preprocessRgb(rgb, 1.5, 2, MOONDREAM1)],
      ['huge sides whose product wraps', () => addon().preprocessRgb(rgb, 2 ** 32, 2 ** 32, MOONDREAM1)],
      ['not a Uint8Array', () => addon().preprocessRgb(new Float32Array(3) as unknown as Uint8Array, 1, 1, MOONDREAM1)],
      ['no params', () => (addon().preprocessRgb as (...args: unknown[]) => Promise<unknown>)(rgb, 2, 2)],
      ['zero image size', () => addon().preprocessRgb(rgb, 2, 2, { ...MOONDREAM1, imageSize: 0 })],
      ['image size over the output limit', () => addon().preprocessRgb(rgb, 2, 2, { ...MOONDREAM1, imageSize: 5000 })],
      ['two channel means', () => addon().preprocessRgb(rgb, 2, 2, { ...MOONDREAM1, imageMean: [0.5, 0.5] })],
      ['zero std', () => addon().preprocessRgb(rgb, 2, 2, { ...MOONDREAM1, imageStd: [0.5, 0, 0.5] })],
      ['NaN mean', () => addon().preprocessRgb(rgb, 2, 2, { ...MOONDREAM1, imageMean: [0.5, NaN, 0.5] })],
      ['zero output', () => addon().resizeRgb(rgb, 2, 2, 0, 5)],
      ['output too large', () => addon().resizeRgb(rgb, 2, 2, 1 << 13, 1 << 13)],
    ];
    for (const [label, run] of cases) {
      await assert.rejects(async () => run(), (error: { code?: string; message?: string }) => {
        assert.equal(error.code, 'ERR_INVALID_ARGUMENT', `${label}: ${error.message}`);
        return true;
      }, label);
    }
  });

  it('handles 1-pixel-thin images in both directions', async () => {
    const long = 100_000;
    const rgb = new Uint8Array(long * 3);
    for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 13) & 255;
    for (const [w, h] of [[long, 1], [1, long]] as const) {
      const out = await addon().preprocessRgb(rgb, w, h, MOONDREAM1);
      assert.equal(out.length, 3 * SIDE * SIDE);
      assert.ok(out.every((v) => v >= -1 && v <= 1), `${w}x${h}`);
    }
    // A constant image stays constant whatever the scale (the weights are normalised).
    const flat = new Uint8Array(long * 3).fill(77);
    const resized = await addon().resizeRgb(flat, 1, long, 5, 3);
    assert.ok(resized.every((v) => v === 77));
  });
});
