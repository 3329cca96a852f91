// Writes GGUF v3 files: metadata of every type (arrays included), the tensor table, and tensor
// data streamed one tensor at a time at aligned offsets. The converter builds on this; ggml's
// reader (readGgufInfo) is the check that the bytes are right.
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { MoondreamError, invalidArgument } from '../errors.js';
import { GGML_TYPES, isGgmlTypeName, tensorByteSize, type GgmlTypeName } from './ggml-types.js';
import { GENERAL_KEYS } from './names.js';
import { GGUF_TYPE_IDS, type GgufMetadataEntry, type GgufScalarType } from './types.js';

export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;
/** ggml keeps tensor names in a 64-byte field, NUL included. */
const MAX_TENSOR_NAME_BYTES = 63;
const MAX_DIMS = 4;

export interface GgufTensorEntry {
  name: string;
  type: GgmlTypeName;
  /** ggml `ne` order: fastest dimension first. */
  shape: readonly number[];
}

export interface GgufWriterOptions {
  /** Data alignment in bytes, a power of two. Anything but 32 is recorded as `general.alignment`. */
  alignment?: number;
}

const INTEGER_RANGES: Partial<Record<GgufScalarType, readonly [bigint, bigint]>> = {
  uint8: [0n, 0xffn], int8: [-0x80n, 0x7fn],
  uint16: [0n, 0xffffn], int16: [-0x8000n, 0x7fffn],
  uint32: [0n, 0xffffffffn], int32: [-0x80000000n, 0x7fffffffn],
  uint64: [0n, 0xffffffffffffffffn], int64: [-0x8000000000000000n, 0x7fffffffffffffffn],
};

/** Accumulates little-endian bytes for the header. */
class ByteSink {
  private readonly chunks: Buffer[] = [];
  length = 0;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  u32(value: number): void {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32LE(value);
    this.push(b);
  }

  u64(value: bigint | number): void {
    const b = Buffer.allocUnsafe(8);
    b.writeBigUInt64LE(BigInt(value));
    this.push(b);
  }

  string(value: string): void {
    const bytes = Buffer.from(value, 'utf8');
    this.u64(bytes.length);
    this.push(bytes);
  }

  scalar(type: GgufScalarType, value: unknown, where: string): void {
    const b = Buffer.allocUnsafe(scalarSize(type));
    switch (type) {
      case 'bool':
        if (typeof value !== 'boolean') throw invalidArgument(where, 'a boolean', value);
        b.writeUInt8(value ? 1 : 0);
        break;
      case 'string':
        if (typeof value !== 'string') throw invalidArgument(where, 'a string', value);
        this.string(value);
        return;
      case 'float32':
      case 'float64':
        if (typeof value !== 'number') throw invalidArgument(where, 'a number', value);
        if (type === 'float32') b.writeFloatLE(value);
        else b.writeDoubleLE(value);
        break;
      default: {
        const integer = toBigInt(value);
        const [min, max] = INTEGER_RANGES[type]!;
        if (integer === undefined || integer < min || integer > max) {
          throw invalidArgument(where, `an integer in [${min}, ${max}] (${type})`, value);
        }
        if (type === 'uint8') b.writeUInt8(Number(integer));
        else if (type === 'int8') b.writeInt8(Number(integer));
        else if (type === 'uint16') b.writeUInt16LE(Number(integer));
        else if (type === 'int16') b.writeInt16LE(Number(integer));
        else if (type === 'uint32') b.writeUInt32LE(Number(integer));
        else if (type === 'int32') b.writeInt32LE(Number(integer));
        else if (type === 'uint64') b.writeBigUInt64LE(integer);
        else b.writeBigInt64LE(integer);
      }
    }
    this.push(b);
  }

  concat(): Buffer {
    return Buffer.concat(this.chunks, this.length);
  }
}

function scalarSize(type: GgufScalarType): number {
  switch (type) {
    case 'uint8': case 'int8': case 'bool': return 1;
    case 'uint16': case 'int16': return 2;
    case 'uint32': case 'int32': case 'float32': return 4;
    case 'string': return 0;
    default: return 8;
  }
}

function toBigInt(value: unknown): bigint | undefined {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  return undefined;
}

function isScalarType(type: unknown): type is GgufScalarType {
  return typeof type === 'string' && type !== 'array' && Object.prototype.hasOwnProperty.call(GGUF_TYPE_IDS, type);
}

function alignUp(offset: number, alignment: number): number {
  return Math.ceil(offset / alignment) * alignment;
}

function encodeMetadata(sink: ByteSink, entries: readonly GgufMetadataEntry[]): void {
  const seen = new Set<string>();
  for (const entry of entries) {
    const { key } = entry;
    if (typeof key !== 'string' || key.length === 0) throw invalidArgument('a metadata key', 'a non-empty string', key);
    if (seen.has(key)) throw new MoondreamError('ERR_INVALID_ARGUMENT', `Metadata key "${key}" is given twice`);
    seen.add(key);
    sink.string(key);
    if (entry.type === 'array') {
      if (!isScalarType(entry.itemType)) {
        throw invalidArgument(`the item type of "${key}"`, 'a GGUF scalar type (arrays of arrays are not supported)', entry.itemType);
      }
      if (!Array.isArray(entry.value)) throw invalidArgument(`the value of "${key}"`, 'an array', entry.value);
      sink.u32(GGUF_TYPE_IDS.array);
      sink.u32(GGUF_TYPE_IDS[entry.itemType]);
      sink.u64(entry.value.length);
      entry.value.forEach((item, i) => sink.scalar(entry.itemType, item, `item ${i} of "${key}"`));
    } else {
      if (!isScalarType(entry.type)) throw invalidArgument(`the type of "${key}"`, 'a GGUF type name', entry.type);
      sink.u32(GGUF_TYPE_IDS[entry.type]);
      sink.scalar(entry.type, entry.value, `the value of "${key}"`);
    }
  }
}

function validateTensor(tensor: GgufTensorEntry): number {
  const { name, type, shape } = tensor;
  if (typeof name !== 'string' || name.length === 0) throw invalidArgument('a tensor name', 'a non-empty string', name);
  if (Buffer.byteLength(name, 'utf8') > MAX_TENSOR_NAME_BYTES) {
    throw invalidArgument(`tensor name "${name}"`, `at most ${MAX_TENSOR_NAME_BYTES} UTF-8 bytes`, name);
  }
  if (!isGgmlTypeName(type)) throw invalidArgument(`the type of tensor "${name}"`, 'a ggml type name', type);
  if (!Array.isArray(shape) || shape.length < 1 || shape.length > MAX_DIMS ||
      !shape.every((n) => Number.isSafeInteger(n) && n > 0)) {
    throw invalidArgument(`the shape of tensor "${name}"`, `1 to ${MAX_DIMS} positive integers`, shape);
  }
  const { blockSize } = GGML_TYPES[type];
  if (shape[0]! % blockSize !== 0) {
    throw invalidArgument(`the row length of tensor "${name}" (${type})`, `a multiple of ${blockSize}`, shape[0]);
  }
  return tensorByteSize(type, shape);
}

/**
 * Streams a GGUF file to disk. The header is written on create(); tensor data follows in declared
 * order through writeTensor(); finish() renames the finished file into place. Until then the bytes
 * live in `<path>.partial`, and abort() (or any failure) removes them, so no half-written model is
 * ever left under the final name.
 */
export class GgufWriter {
  private next = 0;
  private position: number;

  private constructor(
    private readonly path: string,
    private readonly partialPath: string,
    private readonly file: FileHandle,
    private readonly tensors: readonly (GgufTensorEntry & { offset: number; size: number })[],
    private readonly dataStart: number,
    private readonly alignment: number,
    headerLength: number,
  ) {
    this.position = headerLength;
  }

  static async create(
    path: string,
    metadata: readonly GgufMetadataEntry[],
    tensors: readonly GgufTensorEntry[],
    options: GgufWriterOptions = {},
  ): Promise<GgufWriter> {
    const alignment = options.alignment ?? GGUF_DEFAULT_ALIGNMENT;
    if (!Number.isSafeInteger(alignment) || alignment <= 0 || (alignment & (alignment - 1)) !== 0 || alignment > 2 ** 30) {
      throw invalidArgument('options.alignment', 'a power of two', alignment);
    }
    const entries = [...metadata];
    const declared = entries.find((e) => e.key === GENERAL_KEYS.alignment);
    if (declared) {
      if (declared.type !== 'uint32' || declared.value !== alignment) {
        throw invalidArgument(`the ${GENERAL_KEYS.alignment} entry`, `a uint32 equal to options.alignment (${alignment})`, declared.value);
      }
    } else if (alignment !== GGUF_DEFAULT_ALIGNMENT) {
      entries.push({ key: GENERAL_KEYS.alignment, type: 'uint32', value: alignment });
    }

    const sink = new ByteSink();
    sink.push(Buffer.from('GGUF', 'latin1'));
    sink.u32(GGUF_VERSION);
    sink.u64(tensors.length);
    sink.u64(entries.length);
    encodeMetadata(sink, entries);

    const names = new Set<string>();
    let offset = 0;
    const placed = tensors.map((tensor) => {
      const size = validateTensor(tensor);
      if (names.has(tensor.name)) throw new MoondreamError('ERR_INVALID_ARGUMENT', `Tensor "${tensor.name}" is given twice`);
      names.add(tensor.name);
      offset = alignUp(offset, alignment);
      const entry = { ...tensor, shape: [...tensor.shape], offset, size };
      offset += size;
      return entry;
    });
    for (const tensor of placed) {
      sink.string(tensor.name);
      sink.u32(tensor.shape.length);
      for (const n of tensor.shape) sink.u64(n);
      sink.u32(GGML_TYPES[tensor.type].id);
      sink.u64(tensor.offset);
    }
    const header = sink.concat();
    const dataStart = placed.length > 0 ? alignUp(header.length, alignment) : header.length;

    const partialPath = `${path}.partial`;
    let file: FileHandle;
    try {
      file = await open(partialPath, 'w');
    } catch (error) {
      throw new MoondreamError('ERR_IO', `Cannot write ${path}: ${(error as Error).message}`, { cause: error });
    }
    const writer = new GgufWriter(path, partialPath, file, placed, dataStart, alignment, 0);
    await writer.guard(() => writer.write(header));
    return writer;
  }

  /** Byte offset of the data section in the finished file. */
  get dataOffset(): number {
    return this.dataStart;
  }

  /** Writes the data of the next tensor in declared order. */
  async writeTensor(name: string, data: Uint8Array): Promise<void> {
    const tensor = this.tensors[this.next];
    if (!tensor) throw new MoondreamError('ERR_INVALID_ARGUMENT', `Tensor "${name}" was not declared, or was written already`);
    if (tensor.name !== name) {
      throw new MoondreamError('ERR_INVALID_ARGUMENT', `Tensor "${tensor.name}" must be written next, not "${name}"`);
    }
    if (data.byteLength !== tensor.size) {
      throw new MoondreamError('ERR_INVALID_ARGUMENT',
        `Tensor "${name}" (${tensor.type}, shape [${tensor.shape.join(', ')}]) needs ${tensor.size} bytes but received ${data.byteLength}`);
    }
    await this.guard(async () => {
      await this.padTo(this.dataStart + tensor.offset);
      await this.write(data);
    });
    this.next += 1;
  }

  /** Completes the file and moves it to its final path. */
  async finish(): Promise<void> {
    await this.complete();
    await this.publish();
  }

  /**
   * Writes the last padding and closes the file, still under `<path>.partial`: a caller that
   * writes several files publishes them together once all are complete.
   */
  async complete(): Promise<void> {
    if (this.next !== this.tensors.length) {
      const missing = this.tensors[this.next]!.name;
      await this.abort();
      throw new MoondreamError('ERR_INVALID_ARGUMENT', `Tensor "${missing}" was declared but never written`);
    }
    await this.guard(async () => {
      // A file without tensors still ends on an aligned boundary, as ggml's writer does.
      if (this.tensors.length > 0) await this.padTo(alignUp(this.position, this.alignment));
      await this.file.close();
    });
  }

  /** Moves a completed file to its final path. */
  async publish(): Promise<void> {
    await this.guard(() => rename(this.partialPath, this.path));
  }

  /** Discards everything written so far. Safe to call more than once. */
  async abort(): Promise<void> {
    await this.file.close().catch(() => undefined);
    await rm(this.partialPath, { force: true });
  }

  private async padTo(target: number): Promise<void> {
    if (target > this.position) await this.write(new Uint8Array(target - this.position));
  }

  private async write(bytes: Uint8Array): Promise<void> {
    let done = 0;
    while (done < bytes.byteLength) {
      const { bytesWritten } = await this.file.write(bytes, done, bytes.byteLength - done, this.position + done);
      done += bytesWritten;
    }
    this.position += bytes.byteLength;
  }

  private async guard(step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (error) {
      await this.abort();
      throw new MoondreamError('ERR_IO', `Writing ${this.path} failed: ${(error as Error).message}`, { cause: error });
    }
  }
}

/** Writes a whole GGUF file whose tensor data is already in memory. */
export async function writeGguf(
  path: string,
  metadata: readonly GgufMetadataEntry[],
  tensors: readonly (GgufTensorEntry & { data: Uint8Array })[],
  options: GgufWriterOptions = {},
): Promise<void> {
  const writer = await GgufWriter.create(path, metadata, tensors, options);
  for (const tensor of tensors) await writer.writeTensor(tensor.name, tensor.data);
  await writer.finish();
}
