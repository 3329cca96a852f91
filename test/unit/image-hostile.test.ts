// Broken, hostile and unsupported image data: each must end in a typed error (or, for the
// extreme-but-valid shapes, a result), never in an abort, a hang or a runaway allocation.
// Every case runs in its own child process so that an abort fails only its own test.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { preprocessIsolated, type PreprocessOutcome } from '../helpers/isolated-image.js';
import { fixtureBytes } from '../helpers/image-fixtures.js';
import { tempDir } from '../helpers/temp-dir.js';

const dir = tempDir();
const jpeg = fixtureBytes('photo_320x240_q90.jpg');
const png = fixtureBytes('smooth_600x450.png');

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([length, body, crc]);
}

/** A well-formed PNG header claiming width x height RGB pixels, with a few bytes of pixel data. */
function pngClaiming(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(Buffer.alloc(16))), pngChunk('IEND', Buffer.alloc(0))]);
}

function jpegSegment(marker: number, body: number[] | Buffer): Buffer {
  const head = Buffer.from([0xff, marker, 0, 0]);
  head.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([head, Buffer.from(body)]);
}

/** JPEG markers up to the scan for a width x height baseline image, then a few bytes and EOI. */
function jpegClaiming(width: number, height: number): Buffer {
  const huffman = (tableClass: number) => [tableClass, 0, 1, ...new Array<number>(14).fill(0), 0];
  return Buffer.concat([
    Buffer.from([0xff, 0xd8]),
    jpegSegment(0xdb, [0, ...new Array<number>(64).fill(1)]),
    jpegSegment(0xc0, [8, height >> 8, height & 255, width >> 8, width & 255, 3, 1, 0x22, 0, 2, 0x11, 0, 3, 0x11, 0]),
    jpegSegment(0xc4, huffman(0x00)), jpegSegment(0xc4, huffman(0x10)),
    jpegSegment(0xda, [3, 1, 0, 2, 0, 3, 0, 0, 63, 0]),
    Buffer.alloc(16), Buffer.from([0xff, 0xd9]),
  ]);
}

function flipped(bytes: Buffer, from: number, to: number): Buffer {
  const out = Buffer.from(bytes);
  for (let i = from; i < to && i < out.length; i++) out[i] = out[i]! ^ 0x5a;
  return out;
}

function write(name: string, bytes: Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

function expectDecodeError(outcome: PreprocessOutcome, message?: RegExp): void {
  assert.equal(outcome.ok, false, 'expected a decode error, got a result');
  assert.equal(outcome.code, 'ERR_IMAGE_DECODE', outcome.message);
  if (message) assert.match(outcome.message ?? '', message);
}

describe('hostile and broken images', { concurrency: 4 }, () => {
  const cases: Array<[string, Buffer, RegExp | undefined]> = [
    ['empty data', Buffer.alloc(0), /empty/],
    ['text that is not an image', Buffer.from('Question: what is this?\n\nAnswer: not an image'), /Supported formats/],
    ['PNG signature followed by garbage', Buffer.concat([png.subarray(0, 8), Buffer.alloc(200, 0x41)]), undefined],
    ['JPEG truncated to half', jpeg.subarray(0, jpeg.length >> 1), /truncated/],
    ['JPEG truncated inside the header', jpeg.subarray(0, 100), undefined],
    ['PNG truncated to half', png.subarray(0, png.length >> 1), /truncated/],
    ['PNG with corrupted pixel data', flipped(png, 200, 400), undefined],
    ['PNG header claiming 100000x100000 (a decompression bomb)', pngClaiming(100_000, 100_000),
      /100000x100000 = 10000000000 pixels.*maxPixels/],
    ['JPEG header claiming 60000x60000', jpegClaiming(60_000, 60_000), /60000x60000 = 3600000000 pixels/],
    ['PNG header claiming 10x10 with no real pixel data', pngClaiming(10, 10), undefined],
    ['SVG (sharp renders it; PIL cannot, so neither do we)',
      Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8"/></svg>'),
      /SVG format, which is not supported/],
    ['BMP (PIL reads it; the bundled libvips cannot)', Buffer.concat([Buffer.from('BM'), Buffer.alloc(64)]), /Supported formats/],
    ['HEIC header without a body', Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypheic\0\0\0\0mif1heic')]), undefined],
  ];
  for (const [label, bytes, message] of cases) {
    it(`${label}: ERR_IMAGE_DECODE`, async () => {
      expectDecodeError(await preprocessIsolated(write(`${label.replace(/\W+/g, '_')}.bin`, bytes), 'bytes'), message);
    });
  }

  it('a truncated JPEG given as a path: ERR_IMAGE_DECODE', async () => {
    expectDecodeError(await preprocessIsolated(write('truncated.jpg', jpeg.subarray(0, 4000)), 'path'), /truncated\.jpg/);
  });

  it('a bomb header with maxPixels raised above it: still a typed error, not an allocation', async () => {
    const outcome = await preprocessIsolated(write('bomb.png', pngClaiming(100_000, 100_000)), 'bytes', { maxPixels: 2e10 });
    expectDecodeError(outcome);
  });

  it('a 1x10^7 strip: refused from its header, because resizing it costs 3.8 gigapixels', async () => {
    expectDecodeError(await preprocessIsolated(write('strip.png', pngClaiming(1, 10_000_000)), 'bytes'),
      /resized as 378x10000000 = 3780000000 pixels/);
  });

  for (const [width, height] of [[100_000, 1], [1, 100_000]] as const) {
    it(`a valid ${width}x${height} PNG preprocesses`, async () => {
      const bytes = await sharp({ create: { width, height, channels: 3, background: { r: 200, g: 10, b: 90 } } }).png().toBuffer();
      const outcome = await preprocessIsolated(write(`thin_${width}x${height}.png`, bytes), 'bytes');
      assert.equal(outcome.ok, true, outcome.message);
      assert.equal(outcome.length, 3 * 378 * 378);
      assert.ok(outcome.min! >= -1 && outcome.max! <= 1);
    });
  }
});
