// The vision encoder's input: decode (src/image.ts), then the native Pillow-exact resize to the
// model's square and torch-exact normalisation with its mean and std (native/src/preprocess.cpp),
// on a worker thread.
import { addon } from './binding.js';
import { fromNativeError, invalidArgument } from './errors.js';
import { decodeImage, VISION_IMAGE_SIZE, type DecodeImageOptions, type ImageInput } from './image.js';
import { optionalInteger } from './options.js';

export { VISION_IMAGE_SIZE } from './image.js';

export interface PreprocessImageOptions extends DecodeImageOptions {
  /** Side of the square input in pixels; default 378, moondream1's. A model's: `md.info.vision.imageSize`. */
  imageSize?: number;
  /** Per-channel (R, G, B) mean of the normalisation (v / 255 - mean) / std; default [0.5, 0.5, 0.5]. */
  imageMean?: readonly number[];
  /** Per-channel (R, G, B) std of the normalisation; default [0.5, 0.5, 0.5]. */
  imageStd?: readonly number[];
}

/** The largest input side a model file may state (the loader's bound on clip.vision.image_size). */
const MAX_IMAGE_SIZE = 4096;
const MOONDREAM1_MEAN_STD: readonly number[] = [0.5, 0.5, 0.5];

function channels(value: unknown, name: string, positive: boolean): number[] | undefined {
  if (value === undefined) return undefined;
  const expected = positive ? 'an array of 3 numbers above 0 and below 1e6' : 'an array of 3 numbers between -1e6 and 1e6';
  if (!Array.isArray(value) || value.length !== 3) throw invalidArgument(name, expected, value);
  for (const v of value as unknown[]) {
    if (typeof v !== 'number' || !(Math.abs(v) < 1e6) || (positive && !(v > 0))) throw invalidArgument(name, expected, value);
  }
  return [...(value as number[])];
}

/**
 * moondream1's image preprocessing, bit for bit: PIL convert("RGB"), resize((378, 378), BICUBIC)
 * (stretched, no crop), then (v / 255 - 0.5) / 0.5 in float32. Returns 3 * 378 * 378 floats in
 * [-1, 1], as three planes R, G, B, each row by row. `imageSize`, `imageMean` and `imageStd` give
 * another model's values: `preprocessImage(input, md.info.vision)` preprocesses exactly as
 * `md.encodeImage` does (other keys of the object are ignored).
 */
export async function preprocessImage(input: ImageInput, options?: PreprocessImageOptions): Promise<Float32Array> {
  const o = (options ?? {}) as Record<string, unknown>;
  const imageSize = optionalInteger(o.imageSize, 'options.imageSize', 1, MAX_IMAGE_SIZE) ?? VISION_IMAGE_SIZE;
  const imageMean = channels(o.imageMean, 'options.imageMean', false) ?? [...MOONDREAM1_MEAN_STD];
  const imageStd = channels(o.imageStd, 'options.imageStd', true) ?? [...MOONDREAM1_MEAN_STD];
  const image = await decodeImage(input, options, imageSize);
  try {
    return await addon().preprocessRgb(image.data, image.width, image.height, { imageSize, imageMean, imageStd });
  } catch (error) {
    throw fromNativeError(error);
  }
}

/** Pillow's resize(BICUBIC) of raw RGB to any size, before normalisation (for tests and tools). */
export async function resizeRgb(rgb: Uint8Array, width: number, height: number, outWidth: number, outHeight: number): Promise<Uint8Array> {
  try {
    return await addon().resizeRgb(rgb, width, height, outWidth, outHeight);
  } catch (error) {
    throw fromNativeError(error);
  }
}
