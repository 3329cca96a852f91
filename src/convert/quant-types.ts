// Which ggml type each output tensor gets, following llama.cpp's rules (llama-quantize for the
// text model, clip's quantizer for the mmproj): vectors (norms, biases) stay f32; matrices take the
// requested type; the output projection of a quantized text model takes q6_K; a row length the
// block size does not divide falls back to llama.cpp's fallback type, then to f16.
import { GGML_TYPES, type GgmlTypeName } from '../gguf/ggml-types.js';

/** The --type values `moondream-ggml convert` accepts, as ggml type names. */
export const TEXT_TYPES = ['f32', 'f16', 'q8_0', 'q5_1', 'q5_0', 'q4_1', 'q4_0', 'q6_K', 'q5_K', 'q4_K'] as const;
/**
 * The --vision-type values. f16 is the default. bf16 is opt-in: on a CPU with AVX-512 BF16 the
 * vision matmuls then run on VDPBF16PS, twice the multiply-adds of an fp32 FMA per instruction, but
 * the activations are rounded to bf16 too (8 significant bits), which puts the image embeddings
 * further from f32 than f16 weights do (`npm run bench` prints both errors; about 1e-2 against
 * 5e-4 relative RMS on the tiny test model).
 */
export const VISION_TYPES = ['f32', 'f16', 'bf16', 'q8_0'] as const;
export type TextType = (typeof TEXT_TYPES)[number];
export type VisionType = (typeof VISION_TYPES)[number];

/** CLI spelling (lower case, "q4_k") to ggml's name ("q4_K"). */
export function parseTextType(value: string): TextType | undefined {
  return TEXT_TYPES.find((t) => t.toLowerCase() === value.toLowerCase());
}

export function parseVisionType(value: string): VisionType | undefined {
  return VISION_TYPES.find((t) => t.toLowerCase() === value.toLowerCase());
}

/** llama.cpp's general.file_type (llama_ftype) for a text model of this main type. */
export const LLAMA_FILE_TYPE: Record<TextType, number> = {
  f32: 0, f16: 1, q4_0: 2, q4_1: 3, q8_0: 7, q5_0: 8, q5_1: 9, q4_K: 14, q5_K: 16, q6_K: 18,
};

/** general.file_type of an mmproj of this type (llama_ftype: MOSTLY_BF16 is 32). */
export const VISION_FILE_TYPE: Record<VisionType, number> = { f32: 0, f16: 1, bf16: 32, q8_0: 7 };

/** llama.cpp's fallback when a K-quant's 256-value block does not divide the row. */
const K_QUANT_FALLBACK: Partial<Record<GgmlTypeName, GgmlTypeName>> = { q4_K: 'q5_0', q5_K: 'q5_1', q6_K: 'q8_0' };

export type TensorRole = 'vector' | 'matrix' | 'output' | 'keep-float';

function fits(type: GgmlTypeName, rowLength: number): boolean {
  return rowLength % GGML_TYPES[type].blockSize === 0;
}

/**
 * The ggml type of one output tensor. `rowLength` is ne[0]. `keep-float` tensors (the conv patch
 * kernel and position embeddings, which ggml's ops need in float) take f16 unless f32 was asked.
 */
export function chooseTensorType(target: TextType | VisionType, role: TensorRole, rowLength: number): GgmlTypeName {
  if (role === 'vector' || target === 'f32') return 'f32';
  if (target === 'f16' || role === 'keep-float') return 'f16';
  if (target === 'bf16') return 'bf16';
  let type: GgmlTypeName = target;
  if (role === 'output' && target !== 'q8_0') type = fits('q6_K', rowLength) ? 'q6_K' : 'q8_0';
  if (!fits(type, rowLength)) type = K_QUANT_FALLBACK[type] ?? 'f16';
  if (!fits(type, rowLength)) type = 'f16';
  return type;
}
