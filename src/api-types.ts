// The option and result types of the public API, shared by Moondream, MoondreamSession and
// ChatSession (no runtime code, so every module can use them without import cycles).
import type { ChatTurn } from './prompt.js';

/** What belongs to the weights: the files are given to load(), the compute budget here. */
export interface ModelLoadOptions {
  /**
   * The model's compute budget: all its sessions and the vision encoder share one pool of this
   * many threads, taking turns graph by graph. Default: the physical core count.
   */
  threads?: number;
  /**
   * Copy matmul weights that ggml has a faster CPU layout for (q4_0, q4_K, ... on AVX2) into it at
   * load, as llama.cpp does. Default true; false keeps them memory-mapped as stored (less memory,
   * slower prefill). The environment variable MOONDREAM_DISABLE_REPACK=1 forces false.
   */
  repackWeights?: boolean;
  /**
   * Multiply q8_0 and q4_0 weights with our AVX-512 VNNI kernel on CPUs that have it, or with our
   * AVX2 kernel on CPUs without AVX-512 (weights are repacked for it at load; below AVX2 this
   * changes nothing). Default true; false leaves them to ggml's kernels. The environment variable
   * MOONDREAM_DISABLE_VNNI_MATRIX=1 forces false.
   */
  vnniKernel?: boolean;
  /**
   * Where the weights repacked for our kernels are kept between loads: a directory, or false for
   * no cache. A load that finds a file made from the same model file (same path, size and
   * modification time), the same weights and for the same kernels maps it instead of repacking,
   * after checking a hash of its contents; otherwise it repacks and writes the file for the next
   * load (about the size of the text model: 1.4 GB for q8_0). Default: the directory in
   * MOONDREAM_PACKED_CACHE_DIR, else `$XDG_CACHE_HOME/moondream-ggml/packed`, else
   * `~/.cache/moondream-ggml/packed`. MOONDREAM_DISABLE_PACKED_CACHE=1 forces false.
   * `md.info.packedCache` tells what the load did. The hash guards against damage, not against
   * a forger: use a directory only this user can write (the default is one).
   */
  packedWeightCache?: string | false;
  /**
   * Diagnostics: run every graph one op at a time and add up each op's time, to see where the time
   * goes (`takeOpProfile()`). Answers are unchanged; each op costs a thread wake-up more, so leave
   * it off in production. Default false.
   */
  profileOps?: boolean;
  /**
   * After each image encode, hand the vision weights' pages back to the system (the files stay in
   * its page cache): answers then run with about 840 MB less resident for moondream1's f16 mmproj,
   * and each later encode maps the weights back, which cost about 0.2 s of a 2.4 s encode on our
   * test VMs. Default false: the weights stay mapped, as a server answering image after image wants.
   */
  releaseVisionWeights?: boolean;
}

export type { OpTime } from './native-types.js';

/** A session's own state: its KV cache, compute buffers and kept image prefixes. */
export interface SessionOptions {
  /** KV cache positions; default 2048 (the model's maximum). */
  contextSize?: number;
  /** Positions per prefill graph; default 256 (as fast as larger batches here, smaller buffers). */
  batchSize?: number;
  /** KV cache precision; default "f16". */
  kvCacheType?: 'f16' | 'f32';
  /**
   * The text MLP's tanh GELU: "fast" (default) uses ggml's f16 lookup table, exactly as llama.cpp
   * computes it (about 1e-4 from the fp32 reference, like the f16 KV cache); "exact" computes it in
   * f32 as the PyTorch reference does, at roughly half the prefill speed. With kvCacheType "f32"
   * and gelu "exact" the logits match the fp32 reference to about 5e-7.
   */
  gelu?: 'exact' | 'fast';
  /** Text attention through ggml's flash attention kernel (default true; false: plain softmax attention). */
  flashAttention?: boolean;
  /**
   * Memory for kept image prompt prefixes (about 144 MB per image for moondream1), least recently
   * used dropped first; default 1 GiB. 0 keeps only the prefix of the image asked last.
   */
  prefixCacheBytes?: number;
}

/** Moondream.load's options: the model's, and the session options of its default session. */
export interface LoadOptions extends ModelLoadOptions, SessionOptions {}

export interface SamplingOptions {
  /** 0 (default) is greedy decoding. */
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  repeatPenalty?: number;
  repeatLastN?: number;
  /** Same seed, same tokens. */
  seed?: number;
}

export interface GenerateOptions extends SamplingOptions {
  /** New tokens at most; default: the model profile's (256 for moondream1). */
  maxTokens?: number;
  /** Generation ends after one of these tokens (it is included). Default: none. */
  stopTokenIds?: readonly number[];
  /** Called with each new token id, in order, as it is produced. */
  onToken?: (token: number) => void;
  signal?: AbortSignal;
}

export interface AnswerOptions extends SamplingOptions {
  /** New tokens at most; default: the model profile's (256 for moondream1). */
  maxTokens?: number;
  /**
   * Called with each piece of the answer's text as soon as it is certain. The pieces concatenate
   * exactly to the final answer; a possible "<END" stop fragment never reaches it.
   */
  onPiece?: (piece: string) => void;
  /** @deprecated The old name of `onPiece` (it receives text pieces, not token ids); removed in 0.3. */
  onToken?: (piece: string) => void;
  signal?: AbortSignal;
  /** Earlier turns about the same image, in moondream1's "Question/Answer" history format. */
  history?: readonly ChatTurn[];
}

export interface Answer {
  text: string;
  /** Generated token ids, the stop token included. */
  tokens: number[];
  timings: {
    /** Prompt positions (prefix, image rows, question) and how many came from a kept prefix. */
    promptPositions: number;
    reusedPositions: number;
    prefillMs: number;
    decodeMs: number;
    tokensPerSecond: number;
  };
}

export interface GenerateResult {
  tokens: number[];
  stoppedByToken: boolean;
  timings: { promptTokens: number; prefillMs: number; decodeMs: number; tokensPerSecond: number };
}

/** The memory a session holds on top of the shared weights, after its last call. */
export interface SessionInfo {
  contextSize: number;
  /** The KV cache, allocated for contextSize positions (its pages are touched as positions are used). */
  kvCacheBytes: number;
  /** The text graphs' compute buffers (they grow to the largest batch run so far). */
  computeBytes: number;
  /** Kept image prompt prefixes. */
  prefixCacheBytes: number;
  prefixCacheEntries: number;
  totalBytes: number;
}
