// Writes a seeded random moondream1 checkpoint in the exact Hugging Face layout: model.safetensors
// (578 F16 tensors), tokenizer.json, config.json, generation_config.json. `full` has the real shapes
// (1.86 B parameters, 3.7 GB) for benchmarks; `tiny` the same tensors at small widths for tests.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { float32ToF16Bytes } from '../../src/convert/half.js';
import { moondream1ConfigJson, moondream1GenerationConfigJson } from '../../src/convert/moondream1-config.js';
import {
  MOONDREAM1_DIMS, MOONDREAM1_TINY_DIMS, moondream1TensorShapes, type Moondream1Dims,
} from '../../src/convert/moondream1-layout.js';
import { elementCount } from '../../src/convert/safetensors-format.js';
import { SafetensorsWriter } from '../../src/convert/safetensors-writer.js';
import { codegenTokenizerJson } from './gpt2-files.js';
import { moondream1Init, type NormalInit } from './moondream1-init.js';
import { GaussianStream } from './seeded-gaussian.js';

export type CheckpointSize = 'tiny' | 'full';

export const CHECKPOINT_SIZES: readonly CheckpointSize[] = ['tiny', 'full'];

export function checkpointDims(size: CheckpointSize): Moondream1Dims {
  return size === 'full' ? MOONDREAM1_DIMS : MOONDREAM1_TINY_DIMS;
}

export interface CheckpointOptions {
  size: CheckpointSize;
  /** A non-negative safe integer; the same seed gives byte-identical files. */
  seed: number;
  /** Created if missing; the four files in it are replaced. */
  outDir: string;
  /** Called after each tensor with the bytes of tensor data written so far. */
  onTensor?: (name: string, writtenBytes: number, totalBytes: number) => void;
}

export interface CheckpointFiles {
  model: string;
  tokenizer: string;
  config: string;
  generationConfig: string;
  /** Size of model.safetensors in bytes. */
  modelBytes: number;
}

/** Values per generated chunk: 4 MB of f32 scratch and 2 MB of f16 output at a time. */
const CHUNK_VALUES = 1 << 20;

/** One tensor's f16 bytes, chunk by chunk, from its own (seed, name) stream. */
function* seededF16Chunks(seed: number, name: string, count: number, init: NormalInit): Generator<Uint8Array> {
  const stream = new GaussianStream(seed, name);
  const scratch = new Float32Array(Math.min(CHUNK_VALUES, count));
  for (let done = 0; done < count; done += scratch.length) {
    const values = scratch.subarray(0, Math.min(scratch.length, count - done));
    stream.fill(values, init.mean, init.std);
    yield float32ToF16Bytes(values); // fresh bytes: the writer may still hold the previous chunk
  }
}

export async function writeMoondream1Checkpoint(options: CheckpointOptions): Promise<CheckpointFiles> {
  const { size, seed, outDir } = options;
  if (!CHECKPOINT_SIZES.includes(size)) throw new RangeError(`size must be tiny or full, not ${String(size)}`);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a non-negative safe integer, not ${seed}`);
  const dims = checkpointDims(size);
  await mkdir(outDir, { recursive: true });

  const files: CheckpointFiles = {
    model: join(outDir, 'model.safetensors'),
    tokenizer: join(outDir, 'tokenizer.json'),
    config: join(outDir, 'config.json'),
    generationConfig: join(outDir, 'generation_config.json'),
    modelBytes: 0,
  };
  // The full model's config names no dims (it is the real file); the tiny one must state them.
  await writeFile(files.config, moondream1ConfigJson(dims, { explicitDims: size !== 'full' }));
  await writeFile(files.generationConfig, moondream1GenerationConfigJson());
  await writeFile(files.tokenizer, JSON.stringify(codegenTokenizerJson()));

  const shapes = moondream1TensorShapes(dims);
  const shapeOf = new Map(shapes.map((t) => [t.name, t.shape]));
  const writer = await SafetensorsWriter.create(files.model, shapes.map(({ name, shape }) => ({ name, dtype: 'F16' as const, shape })));
  let written = 0;
  try {
    for (const name of writer.order) {
      const shape = shapeOf.get(name)!;
      await writer.writeTensor(name, seededF16Chunks(seed, name, elementCount(shape), moondream1Init(name, shape, dims)));
      written += 2 * elementCount(shape);
      options.onTensor?.(name, written, writer.layout.dataByteLength);
    }
  } catch (error) {
    await writer.abort();
    throw error;
  }
  await writer.finish();
  files.modelBytes = writer.layout.fileByteLength;
  return files;
}
