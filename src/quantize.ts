import { addon } from './binding.js';
import { fromNativeError } from './errors.js';
import { GGML_TYPES, type GgmlTypeName } from './gguf/ggml-types.js';

/**
 * Converts rows of f32 values to a ggml type with ggml's own quantizers (so the bytes equal
 * llama-quantize's), on a worker thread, rows split across `threads`.
 */
export async function quantizeRows(type: GgmlTypeName, values: Float32Array, rowLength: number, threads: number): Promise<Uint8Array> {
  try {
    return await addon().quantize(GGML_TYPES[type].id, values, rowLength, threads);
  } catch (error) {
    throw fromNativeError(error);
  }
}
