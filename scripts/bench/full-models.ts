// The full-size random checkpoint and its GGUF conversions for benchmarks: generated and converted
// on demand, cached outside the repository (never committed).
import { existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { convertCheckpoint } from '../../src/convert/convert.js';
import type { TextType, VisionType } from '../../src/convert/quant-types.js';
import { outputFileNames } from '../../src/convert/convert.js';
import { writeMoondream1Checkpoint } from '../lib/moondream1-checkpoint.js';

export const BENCH_SEED = 1;

export function benchCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  return join(base, 'moondream-ggml', 'bench');
}

/** A full-size checkpoint folder: `given` if set, else generated once into the cache. */
export async function fullCheckpoint(given: string | undefined, log: (line: string) => void): Promise<string> {
  if (given) return given;
  const dir = join(benchCacheDir(), `checkpoint-seed${BENCH_SEED}`);
  if (!existsSync(join(dir, 'model.safetensors'))) {
    log(`generating the full-size random checkpoint (3.7 GB) into ${dir} ...`);
    await writeMoondream1Checkpoint({ size: 'full', seed: BENCH_SEED, outDir: dir });
  }
  return dir;
}

/** The GGUF pair of these types, converted once into the cache from `checkpoint` (a folder, or a
 *  function giving one, called only when a conversion is needed). */
export async function fullPair(checkpoint: string | (() => Promise<string>), textType: TextType, visionType: VisionType,
  log: (line: string) => void): Promise<{ text: string; mmproj: string }> {
  const dir = join(benchCacheDir(), 'gguf');
  const names = outputFileNames(textType, visionType);
  const text = join(dir, names.text);
  const mmproj = join(dir, names.mmproj);
  if (!existsSync(text) || !existsSync(mmproj)) {
    log(`converting to ${textType} + ${visionType} mmproj ...`);
    const checkpointDir = typeof checkpoint === 'string' ? checkpoint : await checkpoint();
    await convertCheckpoint({ checkpointDir, outDir: dir, textType, visionType });
  }
  return { text, mmproj };
}

/** An mmproj of `visionType` alone (the bench's other mmproj types: f32 as the reference, bf16),
 *  converted once into the cache. The converter writes a pair, so its text model (q4_0, the
 *  quickest to write) goes into a scratch folder that is removed. */
export async function fullMmproj(checkpoint: string | (() => Promise<string>), visionType: VisionType,
  log: (line: string) => void): Promise<string> {
  const dir = join(benchCacheDir(), 'gguf');
  const names = outputFileNames('q4_0', visionType);
  const mmproj = join(dir, names.mmproj);
  if (existsSync(mmproj)) return mmproj;
  log(`converting to a ${visionType} mmproj ...`);
  const checkpointDir = typeof checkpoint === 'string' ? checkpoint : await checkpoint();
  const scratch = mkdtempSync(join(benchCacheDir(), 'convert-'));
  try {
    await convertCheckpoint({ checkpointDir, outDir: scratch, textType: 'q4_0', visionType });
    renameSync(join(scratch, names.mmproj), mmproj);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return mmproj;
}
