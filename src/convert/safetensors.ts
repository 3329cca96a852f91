// Reads Hugging Face safetensors checkpoints for the converter, one tensor at a time with positional
// reads, so a 3.7 GB model never sits in memory whole. The header is validated in full on open.
import { open as openFile, type FileHandle } from 'node:fs/promises';
import { MoondreamError, invalidArgument } from '../errors.js';
import { bf16BytesToFloat32, f16BytesToFloat32, f32BytesToFloat32 } from './half.js';
import { SAFETENSORS_PREFIX_BYTES } from './safetensors-format.js';
import {
  SAFETENSORS_MAX_HEADER_BYTES, parseSafetensorsHeader, safetensorsFormatError, type SafetensorsTensorInfo,
} from './safetensors-header.js';

export type { SafetensorsTensorInfo } from './safetensors-header.js';
export type { SafetensorsDtype } from './safetensors-format.js';

/** Node reads at most 2 GiB per call; stay well below it. */
const MAX_READ_BYTES = 256 * 1024 * 1024;

export class SafetensorsFile {
  private handle: FileHandle | undefined;

  private constructor(
    /** The path the file was opened with. */
    readonly path: string,
    handle: FileHandle,
    /** File size in bytes. */
    readonly byteLength: number,
    /** Absolute offset of the data section: 8 + header length. */
    readonly dataOffset: number,
    /** Every tensor, in the order of its data in the file. */
    readonly tensors: ReadonlyMap<string, SafetensorsTensorInfo>,
    /** The header's "__metadata__" map (empty if absent). */
    readonly metadata: Readonly<Record<string, string>>,
  ) {
    this.handle = handle;
  }

  /**
   * Opens and validates a safetensors file. Rejects with ERR_IO when it cannot be opened or read,
   * and ERR_MODEL_FORMAT when its header is malformed or does not fit the file.
   */
  static async open(path: string): Promise<SafetensorsFile> {
    if (typeof path !== 'string' || path.length === 0) throw invalidArgument('path', 'a non-empty string', path);
    let handle: FileHandle;
    try {
      handle = await openFile(path, 'r');
    } catch (error) {
      throw new MoondreamError('ERR_IO', `Cannot open safetensors file ${path}: ${(error as Error).message}`, { cause: error });
    }
    try {
      const stats = await handle.stat().catch((error: unknown) => {
        throw new MoondreamError('ERR_IO', `Cannot read safetensors file ${path}: ${(error as Error).message}`, { cause: error });
      });
      if (!stats.isFile()) throw new MoondreamError('ERR_IO', `Cannot open safetensors file ${path}: not a regular file`);
      const size = stats.size;
      if (size < SAFETENSORS_PREFIX_BYTES) {
        throw safetensorsFormatError(path, `the file is ${size} bytes, too short for the 8-byte header length`);
      }
      const prefix = await readExactly(path, handle, 0, SAFETENSORS_PREFIX_BYTES);
      const headerLength = new DataView(prefix.buffer).getBigUint64(0, true);
      const room = size - SAFETENSORS_PREFIX_BYTES;
      if (headerLength > BigInt(room)) {
        throw safetensorsFormatError(path, `the header length ${headerLength} exceeds the ${room} bytes after it (is the file truncated?)`);
      }
      if (headerLength > BigInt(SAFETENSORS_MAX_HEADER_BYTES)) {
        throw safetensorsFormatError(path, `the header length ${headerLength} is beyond the ${SAFETENSORS_MAX_HEADER_BYTES}-byte limit`);
      }
      const dataOffset = SAFETENSORS_PREFIX_BYTES + Number(headerLength);
      const headerBytes = await readExactly(path, handle, SAFETENSORS_PREFIX_BYTES, Number(headerLength));
      const header = parseSafetensorsHeader(path, headerBytes, size - dataOffset);
      return new SafetensorsFile(path, handle, size, dataOffset, header.tensors, header.metadata);
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
  }

  /** The little-endian bytes of one tensor, in a fresh buffer of its own. */
  async read(name: string): Promise<Uint8Array> {
    const info = this.info(name);
    return readExactly(this.path, this.openHandle(), this.dataOffset + info.begin, info.byteLength);
  }

  /** One tensor widened (F16, BF16) or copied (F32) to float32, exactly. */
  async readAsFloat32(name: string): Promise<Float32Array> {
    const info = this.info(name);
    const bytes = await this.read(name);
    switch (info.dtype) {
      case 'F32': return f32BytesToFloat32(bytes);
      case 'F16': return f16BytesToFloat32(bytes);
      case 'BF16': return bf16BytesToFloat32(bytes);
    }
  }

  /** Closes the file. Safe to call more than once; reads afterwards reject with ERR_DISPOSED. */
  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
  }

  private info(name: string): SafetensorsTensorInfo {
    const info = this.tensors.get(name);
    if (!info) throw new MoondreamError('ERR_INVALID_ARGUMENT', `Tensor "${name}" is not in ${this.path}`);
    return info;
  }

  private openHandle(): FileHandle {
    if (!this.handle) throw new MoondreamError('ERR_DISPOSED', `Safetensors file ${this.path} is closed`);
    return this.handle;
  }
}

/** Reads `length` bytes at `position` into a fresh (hence aligned) buffer, or fails naming the file. */
async function readExactly(path: string, handle: FileHandle, position: number, length: number): Promise<Uint8Array> {
  const bytes = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    let bytesRead: number;
    try {
      ({ bytesRead } = await handle.read(bytes, done, Math.min(length - done, MAX_READ_BYTES), position + done));
    } catch (error) {
      throw new MoondreamError('ERR_IO', `Cannot read safetensors file ${path}: ${(error as Error).message}`, { cause: error });
    }
    if (bytesRead === 0) throw safetensorsFormatError(path, `the file ends at byte ${position + done}, before the ${length} bytes expected at ${position}`);
    done += bytesRead;
  }
  return bytes;
}
