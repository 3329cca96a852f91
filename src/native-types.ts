// The TypeScript shapes of what the native addon exports and returns. This file imports nothing,
// so every module may depend on it without creating cycles; the public types defined here (model
// info, GGUF info, machine probe) are re-exported by the modules that own them.

// ---- src/model-info.ts -------------------------------------------------------------------------

/** What a loaded model is: its dimensions and how it is prompted (from the GGUF pair). */
export interface ModelInfo {
  text: {
    vocabSize: number;
    embeddingLength: number;
    blockCount: number;
    headCount: number;
    feedForwardLength: number;
    contextLength: number;
    ropeDimensions: number;
    ropeBase: number;
    layerNormEpsilon: number;
  };
  prompt: {
    /** "moondream1" for our files; "moondream2-gguf" for files without moondream.* keys. */
    name: string;
    template: string;
    historyTurn: string;
    captionQuestion: string;
    /** -1 when no BOS is prepended. */
    bosTokenId: number;
    stopTokenIds: number[];
    maxNewTokens: number;
    stripSuffixes: string[];
    license: string;
    revision: string;
  };
  vision: null | {
    /** Side of the square vision input in pixels, from the mmproj (378 for moondream1); preprocessing resizes to it. */
    imageSize: number;
    patchSize: number;
    embeddingLength: number;
    headCount: number;
    feedForwardLength: number;
    /** Blocks stored in the file; moondream2 files carry one extra that is not run. */
    blockCountInFile: number;
    /** Blocks the encoder runs. */
    blockCount: number;
    projectionInner: number;
    projectionDim: number;
    layerNormEpsilon: number;
    /** Legacy llava naming (ffn_down holds fc1) was detected by shape and undone. */
    ffnNamesSwapped: boolean;
    gelu: 'erf' | 'tanh';
    projectorGelu: 'erf' | 'tanh';
    /** How images reach the square input: always "stretch" (no crop, no padding), moondream1's way. */
    resize: 'stretch';
    /** Per-channel normalisation (v / 255 - mean) / std, from the mmproj; preprocessing applies it. */
    imageMean: number[];
    imageStd: number[];
  };
  /** Bytes of the memory-mapped files. */
  mappedBytes: number;
  /** Weight bytes copied at load into repacked layouts for faster CPU kernels (ggml's, and ours for q8_0/q4_0 on AVX-512 VNNI); their mapped pages are released. */
  repackedBytes: number;
  /** The model's compute budget: threads shared by all its sessions and the vision encoder. */
  threads: number;
  /** Bytes of the shared vision encoder's compute buffers (0 until the first image is encoded). */
  visionComputeBytes: number;
  /**
   * What the packed-weight cache (`packedWeightCache`) did for each file at load: '' when unused
   * (no cache, or no weights packed for our kernels), 'loaded <file>', 'written <file> (<why no
   * earlier file was used>)' or 'not written: <why>'.
   */
  packedCache: { text: string; vision: string };
}

// ---- src/gguf/types.ts -------------------------------------------------------------------------

/** GGUF's scalar value types, by the names GGUF's own spec uses. */
export type GgufScalarType =
  | 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32'
  | 'bool' | 'string' | 'uint64' | 'int64' | 'float64';

/** JS representation of one scalar: 64-bit integers are BigInt so nothing is rounded. */
export type GgufScalarValue<T extends GgufScalarType> =
  T extends 'uint64' | 'int64' ? bigint
    : T extends 'bool' ? boolean
      : T extends 'string' ? string
        : number;

export type GgufScalar = { [T in GgufScalarType]: { type: T; value: GgufScalarValue<T> } }[GgufScalarType];
export type GgufArray = { [T in GgufScalarType]: { type: 'array'; itemType: T; value: GgufScalarValue<T>[] } }[GgufScalarType];
export type GgufValue = GgufScalar | GgufArray;

/** One metadata entry, in file order. The reader returns exactly what the writer takes. */
export type GgufMetadataEntry = GgufValue & { key: string };

export interface GgufTensorInfo {
  name: string;
  /** ggml type name: "f32", "f16", "q4_0", ... */
  type: string;
  typeId: number;
  /** ggml `ne` order (fastest dimension first), trailing 1s dropped, at least one dimension. */
  shape: number[];
  /** Byte offset from the start of the data section. */
  offset: number;
  /** Bytes. */
  size: number;
}

export interface GgufInfo {
  version: number;
  alignment: number;
  /** Absolute file offset of the data section. */
  dataOffset: number;
  fileSize: number;
  metadata: GgufMetadataEntry[];
  tensors: GgufTensorInfo[];
}

// ---- src/machine-probe.ts ----------------------------------------------------------------------

/** What `threads` threads of this machine reach: the bounds the benchmark divides each stage by. */
export interface MachineProbe {
  threads: number;
  /** Streaming read bandwidth over a buffer far larger than the caches, bytes/s. Bounds decode. */
  readBytesPerSecond: number;
  /** Fused multiply-add peak, 2 FLOPs per FMA, with the widest vectors this CPU has. Bounds f16/f32 matmuls. */
  fp32FlopsPerSecond: number;
  fp32Isa: string;
  /** u8 x s8 multiply-add peak into i32 (2 ops each), as quantized matmuls run; 0 without a SIMD path. */
  int8OpsPerSecond: number;
  int8Isa: string;
  /**
   * The int8 rate with q8_0's per-block float work (per 8 VPDPBUSD: convert, scale product,
   * multiply-add), as our q8_0/q4_0 prefill kernels run, counted as the VPDPBUSDs' operations: the
   * roofline those kernels can reach. 0 where they do not run on AVX-512 VNNI (AVX2, AMX).
   */
  int8BlockOpsPerSecond: number;
  /** bf16 dot-product peak into f32 (VDPBF16PS, 2 FLOPs per product), as a bf16 mmproj's matmuls run; 0 without AVX-512 BF16. */
  bf16FlopsPerSecond: number;
}

// ---- the addon -----------------------------------------------------------------------------------

export interface NativeGgmlInfo {
  ggmlCommit: string;
  ggmlVersion: string;
  cpuFeatures: Record<string, boolean>;
  physicalCores: number;
  logicalCpus: number;
  defaultThreads: number;
}

/** native/include/moondream_cpu.h: the CPU backend and our own kernels this process chose. */
export interface NativeCpuBackend {
  runtimeSelected: boolean;
  variant: string;
  file: string;
  cpuLevel: string;
  reason: string;
  candidates: { name: string; file: string; score: number; verdict: string }[];
  error: { code: string; message: string } | null;
  kernels: { name: string; chosen: boolean; reason: string }[];
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

export interface NativeLoadOptions {
  threads?: number;
  /** LoadParams::repack_weights / vnni_kernel (native/include/moondream.h). */
  repackWeights?: boolean;
  vnniKernel?: boolean;
  /** LoadParams::packed_cache_dir: '' for none. */
  packedCacheDir?: string;
  /** LoadParams::profile_ops. */
  profileOps?: boolean;
  /** LoadParams::release_vision_weights. */
  releaseVisionWeights?: boolean;
}

export interface NativeSessionOptions {
  contextSize?: number;
  batchSize?: number;
  kvCacheType?: 'f16' | 'f32';
  gelu?: 'exact' | 'fast';
  flashAttention?: boolean;
  prefixCacheBytes?: number;
}

/** One op's share of a profiled model's compute (`profileOps`). */
export interface OpTime {
  /** The graph it ran in: 'vision graph', 'prefill graph' or 'decode graph'. */
  graph: string;
  /** ggml's op name (MUL_MAT, NORM, FLASH_ATTN_EXT, ...) or our kernel's (vnni_matmul, f16_matmul, ...). */
  op: string;
  /** Summed wall time of its nodes. */
  ms: number;
  /** Nodes that ran. */
  count: number;
}

/** The native side of a loaded model (native/addon/model_wrap.cpp). */
export interface NativeModel {
  info(): ModelInfo;
  dispose(): void;
  /** Encodes on the model's shared vision encoder: the rows serve every session of the model. */
  encodePixels(pixels: Float32Array, abort?: NativeAbortFlag): Promise<NativeImageEmbeddings>;
  /** A tokenizer object sharing the model's vocabulary. */
  tokenizer(): NativeTokenizer;
  createSession(options: NativeSessionOptions): NativeSession;
  /** The op totals since load or the last call (empty unless loaded with profileOps). */
  takeOpProfile(): OpTime[];
}

/** What a session holds on top of the shared weights (native/addon/model_info_js.cpp). */
export interface NativeSessionInfo {
  contextSize: number;
  kvCacheBytes: number;
  computeBytes: number;
  prefixCacheBytes: number;
  prefixCacheEntries: number;
  totalBytes: number;
}

/** The native side of a session (native/addon/session_wrap.cpp): calls on one session run one at a time. */
export interface NativeSession {
  info(): NativeSessionInfo;
  dispose(): void;
  evaluate(tokens: Int32Array, abort?: NativeAbortFlag, rows?: Float32Array): Promise<Float32Array>;
  generate(tokens: Int32Array, options: NativeGenerateOptions, onToken?: (token: number) => void,
    abort?: NativeAbortFlag): Promise<NativeGenerateResult>;
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

/** The GGUF names table the addon was compiled with, shaped like native/gguf_names.json's
 * layerPlaceholder and names: { group: { id: name } }. */
export interface CompiledGgufNames {
  layerPlaceholder: string;
  names: Record<string, Record<string, string>>;
}

/** What build/Release/moondream_ggml.node exports (native/addon/addon.cpp). */
export interface NativeAddon {
  ggufNames(): CompiledGgufNames;
  ggmlInfo(): NativeGgmlInfo;
  ggmlTypeTraits(): NativeGgmlTypeTraits[];
  /** Loads ggml's CPU backend if nothing has yet, and says which one and why. */
  cpuBackend(): NativeCpuBackend;
  readGgufInfo(path: string): Promise<GgufInfo>;
  loadModel(textPath: string, mmprojPath: string, options: NativeLoadOptions): Promise<NativeModel>;
  NativeAbortFlag: new () => NativeAbortFlag;
  quantize(typeId: number, values: Float32Array, rowLength: number, threads: number): Promise<Uint8Array>;
  /** native/src/machine_probe.cpp: bandwidth and compute peaks of `threads` threads. */
  probeMachine(threads: number, readBytes: number): Promise<MachineProbe>;
  /** native/src/vnni_matrix_check.cpp: our VNNI matmul against ggml's on seeded random data (tests). */
  vnniMatrixCheck(typeId: number, k: number, n: number, m: number, seed: number, threads: number): { supported: boolean; maxRelativeDifference: number; onAmxTiles: boolean };
  /** Pillow-exact resize to imageSize x imageSize + normalisation: 3*imageSize^2 floats, CHW (native/src/preprocess.cpp). */
  preprocessRgb(rgb: Uint8Array, width: number, height: number,
    params: { imageSize: number; imageMean: readonly number[]; imageStd: readonly number[] }): Promise<Float32Array>;
  /** Pillow-exact bicubic resize of raw RGB, uint8 result (tests). */
  resizeRgb(rgb: Uint8Array, width: number, height: number, outWidth: number, outHeight: number): Promise<Uint8Array>;
  Tokenizer: new () => NativeTokenizer;
}
