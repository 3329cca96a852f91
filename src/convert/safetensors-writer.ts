// Streams a safetensors file to disk tensor by tensor (and chunk by chunk within a tensor), in the
// reference writer's layout, so that a multi-gigabyte checkpoint is written with a few megabytes
// of memory. Used by the seeded checkpoint generator.
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { MoondreamError } from '../errors.js';
import {
  SAFETENSORS_PREFIX_BYTES, safetensorsLayout, type SafetensorsLayout, type SafetensorsTensorSpec,
} from './safetensors-format.js';

/** Tensor data: the whole little-endian buffer, or its consecutive chunks. */
export type TensorBytes = Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

/**
 * Writes the header on create(), then each tensor's data through writeTensor() in `order` (sorted
 * by name, which is where the data lives), then finish() renames `<path>.partial` to `path`.
 * Any failure removes the partial file, so no half-written checkpoint is left under the final name.
 */
export class SafetensorsWriter {
  private next = 0;

  private constructor(
    private readonly path: string,
    private readonly partialPath: string,
    private readonly file: FileHandle,
    /** Where every tensor goes; `layout.fileByteLength` is the size of the finished file. */
    readonly layout: SafetensorsLayout,
  ) {}

  static async create(
    path: string,
    tensors: readonly SafetensorsTensorSpec[],
    metadata: Readonly<Record<string, string>> | undefined = { format: 'pt' },
  ): Promise<SafetensorsWriter> {
    const layout = safetensorsLayout(tensors, metadata);
    const partialPath = `${path}.partial`;
    let file: FileHandle;
    try {
      file = await open(partialPath, 'w');
    } catch (error) {
      throw new MoondreamError('ERR_IO', `Cannot write ${path}: ${(error as Error).message}`, { cause: error });
    }
    const writer = new SafetensorsWriter(path, partialPath, file, layout);
    const prefix = new Uint8Array(SAFETENSORS_PREFIX_BYTES);
    new DataView(prefix.buffer).setBigUint64(0, BigInt(layout.header.length), true);
    await writer.guard(async () => {
      await writer.writeAt(prefix, 0);
      await writer.writeAt(layout.header, SAFETENSORS_PREFIX_BYTES);
    });
    return writer;
  }

  /** Tensor names in the order writeTensor() must be called. */
  get order(): readonly string[] {
    return this.layout.tensors.map((t) => t.name);
  }

  /**
   * Writes the next tensor. Chunks from an iterable are written while the next one is produced, so
   * a generator's compute overlaps the disk; a chunk must not be modified after it is yielded.
   */
  async writeTensor(name: string, data: TensorBytes): Promise<void> {
    const tensor = this.layout.tensors[this.next];
    if (!tensor) throw new MoondreamError('ERR_INVALID_ARGUMENT', `Tensor "${name}" was not declared, or was written already`);
    if (tensor.name !== name) {
      throw new MoondreamError('ERR_INVALID_ARGUMENT', `Tensor "${tensor.name}" must be written next, not "${name}"`);
    }
    const start = this.layout.dataOffset + tensor.begin;
    const mismatch = (received: string) => new MoondreamError('ERR_INVALID_ARGUMENT',
      `Tensor "${name}" (${tensor.dtype}, shape [${tensor.shape.join(', ')}]) needs ${tensor.byteLength} bytes but received ${received}`);
    await this.guard(async () => {
      let written = 0;
      let inFlight: Promise<void> = Promise.resolve();
      for await (const chunk of chunksOf(data)) {
        if (written + chunk.byteLength > tensor.byteLength) throw mismatch('more');
        const previous = inFlight;
        const position = start + written;
        inFlight = previous.then(() => this.writeAt(chunk, position));
        inFlight.catch(() => undefined); // surfaces through `await previous` or the final await
        written += chunk.byteLength;
        await previous;
      }
      await inFlight;
      if (written !== tensor.byteLength) throw mismatch(String(written));
    });
    this.next += 1;
  }

  /** Completes the file and moves it to its final path. */
  async finish(): Promise<void> {
    const missing = this.layout.tensors[this.next];
    if (missing) {
      await this.abort();
      throw new MoondreamError('ERR_INVALID_ARGUMENT', `Tensor "${missing.name}" was declared but never written`);
    }
    await this.guard(async () => {
      await this.file.close();
      await rename(this.partialPath, this.path);
    });
  }

  /** Discards everything written so far. Safe to call more than once. */
  async abort(): Promise<void> {
    await this.file.close().catch(() => undefined);
    await rm(this.partialPath, { force: true });
  }

  private async writeAt(bytes: Uint8Array, position: number): Promise<void> {
    let done = 0;
    while (done < bytes.byteLength) {
      const { bytesWritten } = await this.file.write(bytes, done, bytes.byteLength - done, position + done);
      done += bytesWritten;
    }
  }

  /** Runs a step; on failure removes the partial file. Our own errors pass through, others become ERR_IO. */
  private async guard(step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (error) {
      await this.abort();
      if (error instanceof MoondreamError) throw error;
      throw new MoondreamError('ERR_IO', `Writing ${this.path} failed: ${(error as Error).message}`, { cause: error });
    }
  }
}

async function* chunksOf(data: TensorBytes): AsyncGenerator<Uint8Array> {
  if (data instanceof Uint8Array) {
    yield data;
    return;
  }
  yield* data;
}
