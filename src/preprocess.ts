// The vision encoder's input: decode (src/image.ts), then the native Pillow-exact resize to
// 378x378 and torch-exact normalisation (native/src/preprocess.cpp), on a worker thread.
import { addon } from './binding.js';
import { fromNativeError } from './errors.js';
import { decodeImage, type DecodeImageOptions, type ImageInput } from './image.js';

export { VISION_IMAGE_SIZE } from './image.js';
export type PreprocessImageOptions = DecodeImageOptions;

/**
 * moondream1's image preprocessing, bit for bit: PIL convert("RGB"), resize((378, 378), BICUBIC)
 * (stretched, no crop), then (v / 255 - 0.5) / 0.5 in float32. Returns 3 * 378 * 378 floats in
 * [-1, 1], as three planes R, G, B, each row by row.
 */
export async function preprocessImage(input: ImageInput, options?: PreprocessImageOptions): Promise<Float32Array> {
  const image = await decodeImage(input, options);
  try {
    return await addon().preprocessRgb(image.data, image.width, image.height);
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
