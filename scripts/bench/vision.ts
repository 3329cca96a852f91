// Image encode time (vision tower + projector) on the full-size mmproj.
import { Moondream } from '../../src/index.js';
import { median } from './stats.js';

/** Normalised CHW pixels of a smooth synthetic image (the content does not change the cost). */
export function benchPixels(size = 378): Float32Array {
  const pixels = new Float32Array(3 * size * size);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.fround(Math.sin(i * 0.001) * 0.9);
  return pixels;
}

export async function ourEncodeMs(files: { text: string; mmproj: string }, threads: number, runs: number): Promise<{ ms: number; all: number[] }> {
  const md = await Moondream.load(files, { threads });
  try {
    const pixels = benchPixels(md.info.vision?.imageSize ?? 378);
    const all: number[] = [];
    for (let i = 0; i < runs; i++) all.push((await md.encodePixels(pixels)).encodeMs);
    return { ms: median(all), all };
  } finally {
    md.dispose();
  }
}
