// HF moondream1 checkpoint (model.safetensors + tokenizer.json + config.json) -> the GGUF pair.
// Streams tensor by tensor: at most one source tensor and its converted form are in memory.
// Both files are written under .partial names and published together only when both are done,
// so a failed conversion leaves no output file behind.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { abortedError } from '../abort.js';
import { MoondreamError } from '../errors.js';
import { ggmlInfo } from '../ggml-info.js';
import { tensorByteSize, type GgmlTypeName } from '../gguf/ggml-types.js';
import { GgufWriter } from '../gguf/writer.js';
import { modelFileName } from '../model-file-names.js';
import { quantizeRows } from '../quantize.js';
import { textMetadata, visionMetadata, type SourceInfo } from './gguf-metadata.js';
import { dimsFromConfig } from './model-config.js';
import { moondream1TensorShapes, type Moondream1Dims } from './moondream1-layout.js';
import { MOONDREAM1_REVISION } from './profile.js';
import { chooseTensorType, type TextType, type VisionType } from './quant-types.js';
import { SafetensorsFile } from './safetensors.js';
import { textTensorMap, visionTensorMap, type MappedTensor } from './tensor-map.js';
import { vocabularyFromTokenizerJson } from './tokenizer-json.js';

export interface ConvertOptions {
  /** Folder with model.safetensors, tokenizer.json and config.json. */
  checkpointDir: string;
  outDir: string;
  textType?: TextType;
  visionType?: VisionType;
  /** Recorded as moondream.source.revision. */
  revision?: string;
  threads?: number;
  /** Checked between tensors; an abort removes the partial files and rejects with ERR_ABORTED. */
  signal?: AbortSignal;
  onProgress?: (progress: ConvertProgress) => void;
}

export interface ConvertProgress {
  file: 'text' | 'mmproj';
  tensor: string;
  /** Tensors finished, over both files. */
  done: number;
  total: number;
}

export interface ConvertResult {
  textPath: string;
  mmprojPath: string;
  dims: Moondream1Dims;
  /** Output tensor name -> ggml type chosen. */
  types: Record<string, GgmlTypeName>;
}

export function outputFileNames(textType: TextType, visionType: VisionType): { text: string; mmproj: string } {
  return { text: modelFileName('text', textType), mmproj: modelFileName('mmproj', visionType) };
}

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new MoondreamError('ERR_IO', `Cannot read ${what} at ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new MoondreamError('ERR_MODEL_FORMAT', `${path} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

/** Every tensor the pair needs is present with the right shape, before anything is written. */
function checkCheckpoint(checkpoint: SafetensorsFile, dims: Moondream1Dims, path: string): void {
  for (const { name, shape } of moondream1TensorShapes(dims)) {
    const found = checkpoint.tensors.get(name);
    if (!found) throw new MoondreamError('ERR_MODEL_FORMAT', `${path} has no tensor ${name}`);
    if (found.shape.length !== shape.length || found.shape.some((n, i) => n !== shape[i])) {
      throw new MoondreamError('ERR_MODEL_FORMAT',
        `${path}: tensor ${name} has shape [${found.shape.join(', ')}], expected [${shape.join(', ')}]`);
    }
  }
}

/** One output tensor's bytes in its chosen type. */
async function convertTensor(checkpoint: SafetensorsFile, tensor: MappedTensor, type: GgmlTypeName, threads: number): Promise<Uint8Array> {
  const { source } = tensor;
  const sourceInfo = checkpoint.tensors.get(source.name)!;
  const rowLength = tensor.shape[0]!;
  const sliceRows = (count: number) => {
    if (!source.rows || !source.rowCount) return [0, count] as const;
    const perRow = count / source.rowCount;
    return [source.rows[0] * perRow, source.rows[1] * perRow] as const;
  };
  // F16 to f16 is a byte copy: no rounding can creep in.
  if (type === 'f16' && sourceInfo.dtype === 'F16') {
    const bytes = await checkpoint.read(source.name);
    const [start, end] = sliceRows(bytes.length / 2);
    return bytes.subarray(start * 2, end * 2);
  }
  const values = await checkpoint.readAsFloat32(source.name);
  const [start, end] = sliceRows(values.length);
  const slice = values.subarray(start, end);
  if (type === 'f32') return new Uint8Array(slice.buffer, slice.byteOffset, slice.byteLength);
  return quantizeRows(type, slice, rowLength, threads);
}

async function writeFile(
  path: string,
  metadata: Parameters<typeof GgufWriter.create>[1],
  tensors: readonly (MappedTensor & { type: GgmlTypeName })[],
  checkpoint: SafetensorsFile,
  threads: number,
  report: (tensor: string) => void,
): Promise<GgufWriter> {
  const writer = await GgufWriter.create(path, metadata, tensors.map(({ name, type, shape }) => ({ name, type, shape })));
  try {
    for (const tensor of tensors) {
      const bytes = await convertTensor(checkpoint, tensor, tensor.type, threads);
      if (bytes.length !== tensorByteSize(tensor.type, tensor.shape)) {
        throw new MoondreamError('ERR_INTERNAL', `converted ${tensor.name} has ${bytes.length} bytes`);
      }
      await writer.writeTensor(tensor.name, bytes);
      report(tensor.name);
    }
    await writer.complete();
  } catch (error) {
    await writer.abort();
    throw error;
  }
  return writer;
}

export async function convertCheckpoint(options: ConvertOptions): Promise<ConvertResult> {
  const textType = options.textType ?? 'f16';
  const visionType = options.visionType ?? 'f16';
  const threads = options.threads ?? ggmlInfo().defaultThreads;
  const dir = options.checkpointDir;

  const dims = dimsFromConfig(await readJson(join(dir, 'config.json'), 'config.json'));
  const vocab = vocabularyFromTokenizerJson(await readJson(join(dir, 'tokenizer.json'), 'tokenizer.json'), dims.text.vocabSize);
  const source: SourceInfo = { name: 'moondream1', revision: options.revision ?? MOONDREAM1_REVISION };

  const checkpointPath = join(dir, 'model.safetensors');
  const checkpoint = await SafetensorsFile.open(checkpointPath);
  try {
    checkCheckpoint(checkpoint, dims, checkpointPath);
    try {
      await mkdir(options.outDir, { recursive: true });
    } catch (error) {
      throw new MoondreamError('ERR_IO', `Cannot create the output folder ${options.outDir}: ${(error as Error).message}`, { cause: error });
    }

    const types: Record<string, GgmlTypeName> = {};
    const plan = (map: MappedTensor[], target: TextType | VisionType) => map.map((tensor) => {
      const type = chooseTensorType(target, tensor.role, tensor.shape[0]!);
      types[tensor.name] = type;
      return { ...tensor, type };
    });
    const textTensors = plan(textTensorMap(dims), textType);
    const visionTensors = plan(visionTensorMap(dims), visionType);
    const total = textTensors.length + visionTensors.length;
    let done = 0;
    const names = outputFileNames(textType, visionType);
    const textPath = join(options.outDir, names.text);
    const mmprojPath = join(options.outDir, names.mmproj);
    // Throwing here, between tensors, goes through writeFile's cleanup of the partial files.
    const report = (file: ConvertProgress['file'], tensor: string) => {
      options.onProgress?.({ file, tensor, done: ++done, total });
      if (options.signal?.aborted) throw abortedError();
    };

    const textWriter = await writeFile(textPath, textMetadata(dims, vocab, textType, source), textTensors, checkpoint, threads,
      (tensor) => report('text', tensor));
    let visionWriter: GgufWriter;
    try {
      visionWriter = await writeFile(mmprojPath, visionMetadata(dims, visionType, source), visionTensors, checkpoint, threads,
        (tensor) => report('mmproj', tensor));
    } catch (error) {
      await textWriter.abort();
      throw error;
    }
    await textWriter.publish();
    await visionWriter.publish();
    return { textPath, mmprojPath, dims, types };
  } finally {
    await checkpoint.close();
  }
}
