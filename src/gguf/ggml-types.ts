// ggml's tensor types as the GGUF writer needs them: id, block size, bytes per block. The table
// is checked against ggml's own traits by a test (test/unit/ggml-types.test.ts).

export interface GgmlTypeInfo {
  readonly id: number;
  readonly blockSize: number;
  readonly typeSize: number;
}

export const GGML_TYPES = {
  f32: { id: 0, blockSize: 1, typeSize: 4 },
  f16: { id: 1, blockSize: 1, typeSize: 2 },
  q4_0: { id: 2, blockSize: 32, typeSize: 18 },
  q4_1: { id: 3, blockSize: 32, typeSize: 20 },
  q5_0: { id: 6, blockSize: 32, typeSize: 22 },
  q5_1: { id: 7, blockSize: 32, typeSize: 24 },
  q8_0: { id: 8, blockSize: 32, typeSize: 34 },
  q8_1: { id: 9, blockSize: 32, typeSize: 36 },
  q2_K: { id: 10, blockSize: 256, typeSize: 84 },
  q3_K: { id: 11, blockSize: 256, typeSize: 110 },
  q4_K: { id: 12, blockSize: 256, typeSize: 144 },
  q5_K: { id: 13, blockSize: 256, typeSize: 176 },
  q6_K: { id: 14, blockSize: 256, typeSize: 210 },
  q8_K: { id: 15, blockSize: 256, typeSize: 292 },
  i8: { id: 24, blockSize: 1, typeSize: 1 },
  i16: { id: 25, blockSize: 1, typeSize: 2 },
  i32: { id: 26, blockSize: 1, typeSize: 4 },
  i64: { id: 27, blockSize: 1, typeSize: 8 },
  f64: { id: 28, blockSize: 1, typeSize: 8 },
  bf16: { id: 30, blockSize: 1, typeSize: 2 },
} as const satisfies Record<string, GgmlTypeInfo>;

export type GgmlTypeName = keyof typeof GGML_TYPES;

export function isGgmlTypeName(name: string): name is GgmlTypeName {
  return Object.prototype.hasOwnProperty.call(GGML_TYPES, name);
}

/** Bytes taken by a tensor of this type and ggml shape (ne order); the first dimension must be
 *  a multiple of the block size. */
export function tensorByteSize(type: GgmlTypeName, shape: readonly number[]): number {
  const { blockSize, typeSize } = GGML_TYPES[type];
  const [rowLength = 1, ...rest] = shape;
  const rows = rest.reduce((product, n) => product * n, 1);
  return (rowLength / blockSize) * typeSize * rows;
}
