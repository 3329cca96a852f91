// The safetensors container, as huggingface/safetensors writes it: an 8-byte little-endian header
// length, a JSON header (optional "__metadata__" string map first, then one entry per tensor with
// "dtype", "shape" and "data_offsets" relative to the data section), padded with spaces to a
// multiple of 8, then the raw little-endian tensor data. Shared by the reader and the writer.
import { MoondreamError, invalidArgument } from '../errors.js';

/** The floating-point dtypes a moondream checkpoint may hold. Others are refused by name. */
export type SafetensorsDtype = 'F32' | 'F16' | 'BF16';

export const SAFETENSORS_DTYPE_BYTES: Readonly<Record<SafetensorsDtype, number>> = { F32: 4, F16: 2, BF16: 2 };

export function isSafetensorsDtype(value: unknown): value is SafetensorsDtype {
  return value === 'F32' || value === 'F16' || value === 'BF16';
}

export const SAFETENSORS_METADATA_KEY = '__metadata__';
/** Bytes of the header-length prefix. */
export const SAFETENSORS_PREFIX_BYTES = 8;
/** The header (JSON plus padding) is padded to this multiple, as the reference writer does. */
export const SAFETENSORS_HEADER_ALIGNMENT = 8;

export interface SafetensorsTensorSpec {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
}

export interface SafetensorsPlacedTensor extends SafetensorsTensorSpec {
  /** Offset of the first byte, relative to the start of the data section. */
  readonly begin: number;
  readonly byteLength: number;
}

export interface SafetensorsLayout {
  /**
   * The tensors in data order: sorted by name. (The reference writer groups by dtype first, largest
   * first; with a single dtype, as in every moondream checkpoint, the two orders agree.)
   */
  readonly tensors: readonly SafetensorsPlacedTensor[];
  /** The header JSON, padded with spaces; the 8-byte length prefix is not included. */
  readonly header: Uint8Array;
  /** Byte offset of the data section in the file: 8 + header.length. */
  readonly dataOffset: number;
  readonly dataByteLength: number;
  readonly fileByteLength: number;
}

/** Elements of a tensor of this shape (1 for a scalar, []). */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((product, n) => product * n, 1);
}

/** Byte order of names as Rust's `str` ordering (and Python's `sorted`) gives it: by code point. */
export function compareCodePoints(a: string, b: string): number {
  const left = [...a];
  const right = [...b];
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const difference = left[i]!.codePointAt(0)! - right[i]!.codePointAt(0)!;
    if (difference !== 0) return difference;
  }
  return left.length - right.length;
}

/**
 * Places tensors the way the reference writer does (data sorted by name, contiguous), and builds the
 * compact header with the metadata first and the tensors in data order. With every tensor in one
 * dtype, that is exactly the sorted-keys serialisation, so file sizes match published checkpoints.
 */
export function safetensorsLayout(
  specs: readonly SafetensorsTensorSpec[],
  metadata: Readonly<Record<string, string>> | undefined = { format: 'pt' },
): SafetensorsLayout {
  const sorted = [...specs].sort((a, b) => compareCodePoints(a.name, b.name));
  let begin = 0;
  const tensors = sorted.map((spec, i) => {
    if (i > 0 && sorted[i - 1]!.name === spec.name) throw new MoondreamError('ERR_INVALID_ARGUMENT', `Tensor "${spec.name}" is given twice`);
    if (spec.name === SAFETENSORS_METADATA_KEY || spec.name.length === 0) throw invalidArgument('a tensor name', 'a non-empty name other than "__metadata__"', spec.name);
    if (!isSafetensorsDtype(spec.dtype)) throw invalidArgument(`the dtype of tensor "${spec.name}"`, 'F32, F16 or BF16', spec.dtype);
    if (!spec.shape.every((n) => Number.isSafeInteger(n) && n >= 0)) {
      throw invalidArgument(`the shape of tensor "${spec.name}"`, 'non-negative integers', spec.shape);
    }
    const byteLength = elementCount(spec.shape) * SAFETENSORS_DTYPE_BYTES[spec.dtype];
    const placed: SafetensorsPlacedTensor = { name: spec.name, dtype: spec.dtype, shape: [...spec.shape], begin, byteLength };
    begin += byteLength;
    return placed;
  });

  const parts: string[] = [];
  if (metadata !== undefined) parts.push(`${JSON.stringify(SAFETENSORS_METADATA_KEY)}:${JSON.stringify(metadata)}`);
  for (const t of tensors) {
    // Field order as the reference serialises its TensorInfo struct: dtype, shape, data_offsets.
    parts.push(`${JSON.stringify(t.name)}:{"dtype":"${t.dtype}","shape":[${t.shape.join(',')}],"data_offsets":[${t.begin},${t.begin + t.byteLength}]}`);
  }
  const json = Buffer.from(`{${parts.join(',')}}`, 'utf8');
  const padded = Math.ceil(json.length / SAFETENSORS_HEADER_ALIGNMENT) * SAFETENSORS_HEADER_ALIGNMENT;
  const header = new Uint8Array(padded).fill(0x20);
  header.set(json);
  const dataOffset = SAFETENSORS_PREFIX_BYTES + header.length;
  return { tensors, header, dataOffset, dataByteLength: begin, fileByteLength: dataOffset + begin };
}
