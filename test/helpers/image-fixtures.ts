// Reads the committed image fixtures and Pillow goldens (scripts/golden/make-image-fixtures.py).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

/** test/fixtures/images/ in the source tree (tests run from dist/test/). */
export const IMAGE_FIXTURES = fileURLToPath(new URL('../../../test/fixtures/images/', import.meta.url));

export interface ImageFixture {
  file: string;
  format: string;
  pilMode: string;
  width: number;
  height: number;
  frames: number;
  /** Pillow's convert("RGB").resize((378, 378), BICUBIC), or the documented stand-in (see reason). */
  golden: string;
  sha256: string;
  /** false: cannot match Pillow bit for bit; `reason` says why and what the golden is instead. */
  exact: boolean;
  note: string;
  reason?: string;
  /** For inexact fixtures: Pillow's full-size convert("RGB") and where transparent pixels are. */
  fullSize?: { golden: string; sha256: string; transparentMask?: string };
}

export interface ResizeCase {
  source: string;
  width: number;
  height: number;
  golden: string;
  sha256: string;
}

export interface ImageManifest {
  pillow: string;
  target: [number, number];
  fixtures: ImageFixture[];
  resizeCases: ResizeCase[];
}

export function imageManifest(): ImageManifest {
  return JSON.parse(readFileSync(IMAGE_FIXTURES + 'manifest.json', 'utf8')) as ImageManifest;
}

export function fixtureBytes(file: string): Buffer {
  return readFileSync(IMAGE_FIXTURES + file);
}

/**
 * A golden's RGB bytes. The file holds x - (left + up - upLeft) mod 256 per channel (neighbours
 * outside the image count as 0), gzipped; the sha256 of the result is checked against the manifest.
 */
export function readGolden(name: string, width: number, height: number, sha256: string): Uint8Array {
  const residual = gunzipSync(readFileSync(IMAGE_FIXTURES + name));
  const row = width * 3;
  if (residual.length !== row * height) throw new Error(`golden ${name}: ${residual.length} bytes, expected ${row * height}`);
  const out = new Uint8Array(residual.length);
  for (let y = 0; y < height; y++) {
    for (let i = y * row, end = i + row; i < end; i++) {
      const left = i - y * row >= 3 ? out[i - 3]! : 0;
      const up = y > 0 ? out[i - row]! : 0;
      const upLeft = y > 0 && i - y * row >= 3 ? out[i - row - 3]! : 0;
      out[i] = (residual[i]! + left + up - upLeft) & 255;
    }
  }
  const actual = createHash('sha256').update(out).digest('hex');
  if (actual !== sha256) throw new Error(`golden ${name} decodes to sha256 ${actual}, manifest says ${sha256}`);
  return out;
}

export interface Difference {
  max: number;
  count: number;
  /** First differing byte as "x,y channel c: got g, want w", or '' when equal. */
  first: string;
}

/** Compares two RGB images of the given width byte by byte. */
export function compareRgb(actual: Uint8Array, expected: Uint8Array, width: number): Difference {
  if (actual.length !== expected.length) {
    return { max: 256, count: Math.max(actual.length, expected.length), first: `length ${actual.length} vs ${expected.length}` };
  }
  let max = 0;
  let count = 0;
  let first = '';
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!);
    if (d === 0) continue;
    if (count === 0) {
      const pixel = Math.floor(i / 3);
      first = `${pixel % width},${Math.floor(pixel / width)} channel ${i % 3}: got ${actual[i]}, want ${expected[i]}`;
    }
    count++;
    if (d > max) max = d;
  }
  return { max, count, first };
}
