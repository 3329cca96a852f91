// The committed outputs of scripts/golden/reference_forward.py (a float32 numpy forward of
// moondream1 written in this project from the spec, not from our C++) for the seeded tiny
// checkpoint, and the arithmetic the tests compare them with.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

export const GOLDEN_DIR = fileURLToPath(new URL('../../../test/fixtures/golden/', import.meta.url));
export const REGENERATE = 'npm run make-checkpoint -- --size tiny --seed 7 --out /tmp/x && /usr/bin/python3 scripts/golden/reference_forward.py /tmp/x test/fixtures/golden';

export interface GoldenImage {
  file: string;
  rows: number;
  width: number;
}

export interface Reference {
  checkpoint: { size: 'tiny'; seed: number; modelSha256: string };
  textPrompts: Record<string, number[]>;
  mixed: { before: number[]; after: number[]; imageRows: number };
  pixels: { formula: string; sha256: string };
  logits: Record<string, string>;
  /** erf GELU, moondream1. */
  vision: GoldenImage;
  /** tanh GELU in the vision MLPs and the projector, the published moondream2 GGUFs' semantics. */
  visionTanh: GoldenImage;
  float32VsFloat64MaxRelErr: Record<string, number>;
}

export const reference = JSON.parse(readFileSync(join(GOLDEN_DIR, 'reference.json'), 'utf8')) as Reference;

export function readGolden(file: string): Float32Array {
  const bytes = gunzipSync(readFileSync(join(GOLDEN_DIR, file)));
  // Copy into an aligned buffer: the gunzip result may sit at any byte offset of a shared pool.
  // The goldens are little-endian, as is every platform this package builds for.
  const values = new Float32Array(bytes.length / 4);
  new Uint8Array(values.buffer).set(bytes);
  return values;
}

/** max |ours - ref| / max |ref|: one scale for the whole vector, so near-zero entries don't dominate. */
export function maxRelativeError(ours: Float32Array, ref: Float32Array): number {
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
export function syntheticPixels(size = 378): Float32Array {
  const pixels = new Float32Array(3 * size * size);
  let i = 0;
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) pixels[i++] = Math.fround(Math.sin(0.37 * c + 0.011 * y * 1.3 + 0.017 * x) * 0.9);
    }
  }
  // Both sides compute the pixels; a libm sin that disagreed by an ulp would show up here first.
  assert.equal(sha256(new Uint8Array(pixels.buffer)), reference.pixels.sha256,
    `the synthetic pixels differ from the ones the goldens used (${reference.pixels.formula})`);
  return pixels;
}

export const sha256 = (bytes: Uint8Array | string): string => createHash('sha256').update(bytes).digest('hex');

/**
 * Fails with the real cause when a checkpoint is not the one the goldens were made from: every
 * comparison would be meaningless, and the failure would look like a runtime bug.
 */
export function assertGoldenCheckpoint(modelPath: string): void {
  const actual = sha256(readFileSync(modelPath));
  if (actual !== reference.checkpoint.modelSha256) {
    throw new Error(`The checkpoint generator changed; regenerate the goldens (${REGENERATE}). ` +
      `model.safetensors for seed ${reference.checkpoint.seed} has sha256 ${actual}, the goldens were made from ${reference.checkpoint.modelSha256}.`);
  }
}
