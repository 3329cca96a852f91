// Loads the native addon once, lazily, and says how to fix it when it cannot be loaded.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MoondreamError } from './errors.js';
import type { GgufInfo } from './gguf/types.js';
import type { MachineProbe } from './machine-probe.js';
import type { ModelInfo } from './model-info.js';

export interface NativeGgmlInfo {
  ggmlCommit: string;
  ggmlVersion: string;
  cpuFeatures: Record<string, boolean>;
  physicalCores: number;
  logicalCpus: number;
  defaultThreads: number;
}

export interface NativeGgmlTypeTraits {
  id: number;
  name: string;
  blockSize: number;
  typeSize: number;
  quantized: boolean;
}

export interface NativeAbortFlag {
  abort(): void;
  readonly aborted: boolean;
}

export interface NativeGenerateOptions {
  maxTokens: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  repeatPenalty?: number;
  repeatLastN?: number;
  seed?: number;
  stopTokenIds?: Int32Array;
}

export interface NativeGenerateResult {
  tokens: Int32Array;
  stoppedByToken: boolean;
  promptTokens: number;
  prefillMs: number;
  decodeMs: number;
}

export interface NativeSessionOptions {
  threads?: number;
  contextSize?: number;
  batchSize?: number;
  kvCacheType?: 'f16' | 'f32';
  gelu?: 'exact' | 'fast';
  flashAttention?: boolean;
  prefixCacheBytes?: number;
  /** LoadParams::repack_weights / vnni_kernel (native/include/moondream.h). */
  repackWeights?: boolean;
  vnniKernel?: boolean;
}

/** The native side of a loaded model (native/addon/model_wrap.cpp). */
export interface NativeModel {
  info(): ModelInfo;
  dispose(): void;
  evaluate(tokens: Int32Array, abort?: NativeAbortFlag, rows?: Float32Array): Promise<Float32Array>;
  generate(tokens: Int32Array, options: NativeGenerateOptions, onToken?: (token: number) => void,
    abort?: NativeAbortFlag): Promise<NativeGenerateResult>;
  encodePixels(pixels: Float32Array, abort?: NativeAbortFlag): Promise<NativeImageEmbeddings>;
  /** A tokenizer object sharing the model's vocabulary. */
  tokenizer(): NativeTokenizer;
  answer(imageId: number, rows: Float32Array | null, prefix: Int32Array, suffix: Int32Array,
    options: NativeGenerateOptions & { stripSuffixes: string[] }, onPiece?: (piece: string) => void,
    abort?: NativeAbortFlag): Promise<NativeAnswerResult>;
}

export interface NativeAnswerResult {
  text: string;
  tokens: Int32Array;
  stoppedByToken: boolean;
  promptPositions: number;
  reusedPositions: number;
  prefillMs: number;
  decodeMs: number;
}

export interface NativeImageEmbeddings {
  /** rows x width floats, one row per image patch. */
  embeddings: Float32Array;
  rows: number;
  width: number;
  encodeMs: number;
}

/** native/addon/tokenizer_binding.cpp: created empty, usable once load() resolves. */
export interface NativeTokenizer {
  load(path: string): Promise<void>;
  tokenize(text: string): Uint32Array;
  detokenize(ids: Int32Array, skipSpecialTokens: boolean): string;
  detokenizePieces(ids: Int32Array, skipSpecialTokens: boolean): string[];
  dispose(): void;
  readonly vocabSize: number;
  answerPieces(ids: Int32Array, stripSuffixes: string[]): { pieces: string[]; answer: string };
}

/** What build/Release/moondream_ggml.node exports (native/addon/addon.cpp). */
export interface NativeAddon {
  ggmlInfo(): NativeGgmlInfo;
  ggmlTypeTraits(): NativeGgmlTypeTraits[];
  readGgufInfo(path: string): Promise<GgufInfo>;
  loadModel(textPath: string, mmprojPath: string, options: NativeSessionOptions): Promise<NativeModel>;
  NativeAbortFlag: new () => NativeAbortFlag;
  quantize(typeId: number, values: Float32Array, rowLength: number, threads: number): Promise<Uint8Array>;
  /** native/src/machine_probe.cpp: bandwidth and compute peaks of `threads` threads. */
  probeMachine(threads: number, readBytes: number): Promise<MachineProbe>;
  /** native/src/vnni_matrix_check.cpp: our VNNI matmul against ggml's on seeded random data (tests). */
  vnniMatrixCheck(typeId: number, k: number, n: number, m: number, seed: number, threads: number): { supported: boolean; maxRelativeDifference: number };
  /** Pillow-exact resize to imageSize x imageSize + normalisation: 3*imageSize^2 floats, CHW (native/src/preprocess.cpp). */
  preprocessRgb(rgb: Uint8Array, width: number, height: number,
    params: { imageSize: number; imageMean: readonly number[]; imageStd: readonly number[] }): Promise<Float32Array>;
  /** Pillow-exact bicubic resize of raw RGB, uint8 result (tests). */
  resizeRgb(rgb: Uint8Array, width: number, height: number, outWidth: number, outHeight: number): Promise<Uint8Array>;
  Tokenizer: new () => NativeTokenizer;
}

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const REBUILD = 'npm run build:native';

/** Where the addon is: MOONDREAM_GGML_ADDON overrides (sanitizer builds), else build/Release. */
export function addonPath(): string {
  return process.env.MOONDREAM_GGML_ADDON ?? join(packageRoot, 'build', 'Release', 'moondream_ggml.node');
}

/** Turns a failed require() of the addon into an error that names the fix. */
export function explainLoadFailure(path: string, error: unknown): MoondreamError {
  const detail = error instanceof Error ? error.message : String(error);
  if (!existsSync(path)) {
    return new MoondreamError('ERR_NATIVE_ADDON',
      `The moondream-ggml native addon is not built (no file at ${path}). ` +
      `Run \`${REBUILD}\` in ${packageRoot} (needs a C++17 compiler and CMake >= 3.19).`, { cause: error });
  }
  if (/NODE_MODULE_VERSION|compiled against a different Node\.js version/.test(detail)) {
    return new MoondreamError('ERR_NATIVE_ADDON',
      `The moondream-ggml native addon at ${path} was built for another Node.js version ` +
      `(this is Node ${process.version}, ABI ${process.versions.modules}). Rebuild it with \`${REBUILD}\` ` +
      `(or \`npm rebuild moondream-ggml\` where it is a dependency).`, { cause: error });
  }
  return new MoondreamError('ERR_NATIVE_ADDON',
    `The moondream-ggml native addon at ${path} could not be loaded: ${detail}. ` +
    `Rebuild it with \`${REBUILD}\`.`, { cause: error });
}

let loaded: NativeAddon | undefined;

export function addon(): NativeAddon {
  if (loaded) return loaded;
  const path = addonPath();
  const require = createRequire(import.meta.url);
  try {
    loaded = require(path) as NativeAddon;
  } catch (error) {
    throw explainLoadFailure(path, error);
  }
  return loaded;
}
