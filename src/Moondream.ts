import { linkAbortSignal } from './abort.js';
import { addon, type NativeAbortFlag, type NativeImageEmbeddings, type NativeModel, type NativeSessionOptions } from './binding.js';
import { MoondreamError, fromNativeError, invalidArgument } from './errors.js';
import type { ModelInfo } from './model-info.js';
import { resolveModelFiles, type ModelFiles, type ModelSource } from './model-files.js';
import { Tokenizer, type DetokenizeOptions } from './tokenizer.js';
import { EncodedImage } from './EncodedImage.js';
import { buildPrompt, type ChatTurn } from './prompt.js';
import { ChatSession } from './chat.js';
import { abortedError } from './abort.js';
import type { ImageInput } from './image.js';
import { preprocessImage } from './preprocess.js';
import { weightOptions, type WeightOptions } from './weight-options.js';
import { performance } from 'node:perf_hooks';
import {
  optionalEnum, optionalFunction, optionalInteger, optionalNumber, optionalSignal, optionsObject, tokenIds,
} from './options.js';

export interface LoadOptions extends WeightOptions {
  /** Compute threads; default: the physical core count. */
  threads?: number;
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
   * Called with each piece of the answer as soon as it is certain. The pieces concatenate exactly
   * to the final answer; a possible "<END" stop fragment never reaches it.
   */
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

function samplingOptions(o: Record<string, unknown>): SamplingOptions {
  const values: SamplingOptions = {
    temperature: optionalNumber(o.temperature, 'options.temperature', 0, 100),
    topK: optionalInteger(o.topK, 'options.topK', 0, 1 << 20),
    topP: optionalNumber(o.topP, 'options.topP', 0, 1, true),
    minP: optionalNumber(o.minP, 'options.minP', 0, 1),
    repeatPenalty: optionalNumber(o.repeatPenalty, 'options.repeatPenalty', 0, 100, true),
    repeatLastN: optionalInteger(o.repeatLastN, 'options.repeatLastN', 0, 1 << 20),
    seed: optionalInteger(o.seed, 'options.seed', 0, Number.MAX_SAFE_INTEGER),
  };
  for (const key of Object.keys(values) as (keyof SamplingOptions)[]) if (values[key] === undefined) delete values[key];
  return values;
}

function chatHistory(value: unknown): ChatTurn[] {
  if (!Array.isArray(value)) throw invalidArgument('options.history', 'an array of { question, answer }', value);
  return value.map((turn: unknown, i) => {
    const t = turn as Partial<ChatTurn> | null;
    if (typeof t !== 'object' || t === null || typeof t.question !== 'string' || typeof t.answer !== 'string') {
      throw invalidArgument(`options.history[${i}]`, '{ question: string, answer: string }', turn);
    }
    return { question: t.question, answer: t.answer };
  });
}

/** Adapts a callback-streaming call into an async iterator; leaving the loop early aborts it. */
function streamPieces(run: (onToken: (piece: string) => void, signal: AbortSignal) => Promise<unknown>, outer?: AbortSignal): AsyncIterable<string> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<string> {
      const controller = new AbortController();
      const onOuterAbort = () => controller.abort();
      outer?.addEventListener('abort', onOuterAbort, { once: true });
      if (outer?.aborted) controller.abort();
      const queue: string[] = [];
      let wake: (() => void) | undefined;
      let finished = false;
      let failure: unknown;
      const done = run((piece) => {
        queue.push(piece);
        wake?.();
      }, controller.signal).then(
        () => { finished = true; wake?.(); },
        (error: unknown) => { failure = error; finished = true; wake?.(); },
      );
      return {
        async next(): Promise<IteratorResult<string>> {
          for (;;) {
            if (queue.length > 0) return { value: queue.shift()!, done: false };
            if (finished) {
              outer?.removeEventListener('abort', onOuterAbort);
              if (failure !== undefined) throw failure;
              return { value: undefined, done: true };
            }
            await new Promise<void>((resolve) => { wake = resolve; });
            wake = undefined;
          }
        },
        async return(): Promise<IteratorResult<string>> {
          controller.abort();
          await done;
          outer?.removeEventListener('abort', onOuterAbort);
          return { value: undefined, done: true };
        },
      };
    },
  };
}

function sessionOptions(value: unknown): NativeSessionOptions {
  const o = optionsObject(value, 'options');
  const out: NativeSessionOptions = {};
  const threads = optionalInteger(o.threads, 'options.threads', 1, 1024);
  const contextSize = optionalInteger(o.contextSize, 'options.contextSize', 1, 1 << 20);
  const batchSize = optionalInteger(o.batchSize, 'options.batchSize', 1, 1 << 16);
  const kvCacheType = optionalEnum(o.kvCacheType, 'options.kvCacheType', ['f16', 'f32'] as const);
  const gelu = optionalEnum(o.gelu, 'options.gelu', ['exact', 'fast'] as const);
  if (threads !== undefined) out.threads = threads;
  if (contextSize !== undefined) out.contextSize = contextSize;
  if (batchSize !== undefined) out.batchSize = batchSize;
  if (kvCacheType !== undefined) out.kvCacheType = kvCacheType;
  if (gelu !== undefined) out.gelu = gelu;
  const prefixCacheBytes = optionalInteger(o.prefixCacheBytes, 'options.prefixCacheBytes', 0, Number.MAX_SAFE_INTEGER);
  if (prefixCacheBytes !== undefined) out.prefixCacheBytes = prefixCacheBytes;
  if (o.flashAttention !== undefined) {
    if (typeof o.flashAttention !== 'boolean') throw invalidArgument('options.flashAttention', 'a boolean', o.flashAttention);
    out.flashAttention = o.flashAttention;
  }
  return out;
}

/** A loaded moondream model: weights memory-mapped, validated against the expected layout. */
export class Moondream {
  private native: NativeModel | null;
  private tail: Promise<unknown> = Promise.resolve();
  private readonly vocabSize: number;
  private nextImageId = 1;
  /** Abort flags of the native calls running or queued now: dispose() raises them. */
  private readonly inFlight = new Set<NativeAbortFlag>();
  /** The text model's tokenizer (moondream1's CodeGen BPE), sharing the model's vocabulary. */
  readonly tokenizer: Tokenizer;

  private constructor(native: NativeModel, readonly files: Readonly<ModelFiles>) {
    this.native = native;
    this.vocabSize = native.info().text.vocabSize;
    this.tokenizer = Tokenizer.fromNative(native.tokenizer());
  }

  /**
   * Loads a GGUF pair: a folder holding `moondream1-text-model-*.gguf` and
   * `moondream1-mmproj-*.gguf`, or explicit `{ text, mmproj }` paths (`mmproj` may be omitted to
   * load the text model alone). Every key, tensor name, shape and type is checked before use.
   */
  static async load(source: ModelSource, options?: LoadOptions): Promise<Moondream> {
    const session = sessionOptions(options);
    const weights = weightOptions(options);
    const files = await resolveModelFiles(source);
    try {
      const native = await addon().loadModel(files.text, files.mmproj ?? '', { ...session, ...weights });
      return new Moondream(native, Object.freeze({ ...files }));
    } catch (error) {
      throw fromNativeError(error);
    }
  }

  /** Dimensions and prompt profile of the loaded pair. */
  get info(): ModelInfo {
    return this.use().info();
  }

  /** Token ids of `text` (no BOS added), exactly as moondream1's HF tokenizer gives them. */
  tokenize(text: string): number[] {
    this.use();
    return this.tokenizer.tokenize(text);
  }

  /** The text of token ids. */
  detokenize(ids: readonly number[], options?: DetokenizeOptions): string {
    this.use();
    return this.tokenizer.detokenize(ids, options);
  }

  /**
   * Logits of the last position after `tokens`, from an empty context (a test and tool surface).
   * With `image`, its rows are inserted before `tokens[imageAt]` (default: at the end).
   */
  async evaluate(tokens: readonly number[], options?: { signal?: AbortSignal; image?: EncodedImage; imageAt?: number }): Promise<Float32Array> {
    const ids = tokenIds(tokens, 'tokens', this.vocabSize);
    const o = optionsObject(options, 'options');
    const signal = optionalSignal(o.signal, 'options.signal');
    let entries = ids;
    let rows: Float32Array | undefined;
    if (o.image !== undefined) {
      const image = o.image;
      if (!(image instanceof EncodedImage)) throw invalidArgument('options.image', 'an EncodedImage', image);
      const at = optionalInteger(o.imageAt, 'options.imageAt', 0, ids.length) ?? ids.length;
      entries = new Int32Array(ids.length + image.rows);
      entries.set(ids.subarray(0, at), 0);
      entries.fill(-1, at, at + image.rows);
      entries.set(ids.subarray(at), at + image.rows);
      rows = image.embeddings;
    }
    return this.serial(async (native) => {
      const link = linkAbortSignal(signal, this.inFlight);
      try {
        return await native.evaluate(entries, link.flag, rows);
      } finally {
        link.dispose();
      }
    });
  }

  /** Prefills `tokens` from an empty context, then samples new tokens (greedy by default). */
  async generate(tokens: readonly number[], options?: GenerateOptions): Promise<GenerateResult> {
    const ids = tokenIds(tokens, 'tokens', this.vocabSize);
    const o = optionsObject(options, 'options');
    const maxTokens = optionalInteger(o.maxTokens, 'options.maxTokens', 0, 1 << 20) ?? this.info.prompt.maxNewTokens;
    const stops = o.stopTokenIds === undefined ? new Int32Array(0) : tokenIds(o.stopTokenIds, 'options.stopTokenIds', this.vocabSize);
    const onToken = optionalFunction<(token: number) => void>(o.onToken, 'options.onToken');
    const signal = optionalSignal(o.signal, 'options.signal');
    const sampling = samplingOptions(o);
    return this.serial(async (native) => {
      const link = linkAbortSignal(signal, this.inFlight);
      try {
        const result = await native.generate(ids, { maxTokens, stopTokenIds: stops, ...sampling }, onToken, link.flag);
        const tokensOut = Array.from(result.tokens);
        return {
          tokens: tokensOut,
          stoppedByToken: result.stoppedByToken,
          timings: {
            promptTokens: result.promptTokens,
            prefillMs: result.prefillMs,
            decodeMs: result.decodeMs,
            tokensPerSecond: result.decodeMs > 0 ? (Math.max(0, tokensOut.length - 1) * 1000) / result.decodeMs : 0,
          },
        };
      } finally {
        link.dispose();
      }
    });
  }

  /**
   * Decodes an image (path, Buffer, Uint8Array, ArrayBuffer or sharp instance; JPEG, PNG, WebP,
   * GIF, AVIF, TIFF), preprocesses it exactly as moondream1 does (with the side, mean and std of
   * this model's mmproj) and encodes it with the vision tower. The result can be asked any number of questions.
   */
  async encodeImage(input: ImageInput, options?: { signal?: AbortSignal; maxPixels?: number }): Promise<EncodedImage> {
    const o = optionsObject(options, 'options');
    const signal = optionalSignal(o.signal, 'options.signal');
    const maxPixels = optionalInteger(o.maxPixels, 'options.maxPixels', 1, Number.MAX_SAFE_INTEGER);
    const vision = this.info.vision;
    if (!vision) {
      throw new MoondreamError('ERR_INVALID_ARGUMENT', 'This model was loaded without its mmproj file, so it cannot encode images');
    }
    if (signal?.aborted) throw abortedError();
    const start = performance.now();
    // The model's own input side, mean and std (its mmproj's clip.vision.* keys).
    const { imageSize, imageMean, imageStd } = vision;
    const pixels = await preprocessImage(input, { imageSize, imageMean, imageStd, ...(maxPixels === undefined ? {} : { maxPixels }) });
    const preprocessed = performance.now();
    if (signal?.aborted) throw abortedError();
    const encoded = await this.encodePixels(pixels, signal ? { signal } : {});
    const end = performance.now();
    return new EncodedImage(encoded.embeddings, encoded.rows, encoded.width, {
      preprocessMs: preprocessed - start,
      encodeMs: encoded.encodeMs,
      totalMs: end - start,
    }, this, this.nextImageId++);
  }

  /**
   * Answers a question about an encoded image with moondream1's exact prompt, stop tokens and
   * answer clean-up. A second question about the same image reuses its prefilled prompt prefix.
   */
  async answerQuestion(image: EncodedImage, question: string, options?: AnswerOptions): Promise<string> {
    return (await this.answer(image, question, options)).text;
  }

  /** answerQuestion with the generated tokens and timings. */
  async answer(image: EncodedImage, question: string, options?: AnswerOptions): Promise<Answer> {
    if (!(image instanceof EncodedImage)) throw invalidArgument('image', 'an EncodedImage from encodeImage()', image);
    if (image.owner !== this) throw invalidArgument('image', 'an EncodedImage made by this model', 'one made by another model');
    if (typeof question !== 'string') throw invalidArgument('question', 'a string', question);
    const o = optionsObject(options, 'options');
    const history = o.history === undefined ? [] : chatHistory(o.history);
    const profile = this.info.prompt;
    const maxTokens = optionalInteger(o.maxTokens, 'options.maxTokens', 0, 1 << 20) ?? profile.maxNewTokens;
    const onToken = optionalFunction<(piece: string) => void>(o.onToken, 'options.onToken');
    const signal = optionalSignal(o.signal, 'options.signal');
    const sampling = samplingOptions(o);
    const { prefix, suffix } = buildPrompt(profile, (text) => this.tokenize(text), question, history);
    return this.serial(async (native) => {
      const link = linkAbortSignal(signal, this.inFlight);
      try {
        const result = await native.answer(image.id, image.embeddings, prefix, suffix, {
          maxTokens, stopTokenIds: Int32Array.from(profile.stopTokenIds), stripSuffixes: [...profile.stripSuffixes], ...sampling,
        }, onToken, link.flag);
        const tokens = Array.from(result.tokens);
        return {
          text: result.text,
          tokens,
          timings: {
            promptPositions: result.promptPositions,
            reusedPositions: result.reusedPositions,
            prefillMs: result.prefillMs,
            decodeMs: result.decodeMs,
            tokensPerSecond: result.decodeMs > 0 ? (Math.max(0, tokens.length - 1) * 1000) / result.decodeMs : 0,
          },
        };
      } finally {
        link.dispose();
      }
    });
  }

  /** The answer as an async iterator of text pieces (stops generating if the loop exits early). */
  streamAnswer(image: EncodedImage, question: string, options?: Omit<AnswerOptions, 'onToken'>): AsyncIterable<string> {
    return streamPieces((onToken, signal) => this.answer(image, question, { ...options, onToken, signal }), options?.signal);
  }

  /** A description of the image (moondream1 has no caption head: it answers a fixed question). */
  async caption(image: EncodedImage, options?: Omit<AnswerOptions, 'history'>): Promise<string> {
    return this.answerQuestion(image, this.info.prompt.captionQuestion, options);
  }

  /** A conversation about one image: each answer joins the history of the next question. */
  chat(image: EncodedImage): ChatSession {
    if (!(image instanceof EncodedImage)) throw invalidArgument('image', 'an EncodedImage from encodeImage()', image);
    return new ChatSession((question, history, options) => this.answer(image, question, { ...options, history }));
  }

  /**
   * Encodes already preprocessed pixels (normalised CHW floats, 3 x 378 x 378) into the image rows
   * the text model reads: a test and tool surface under encodeImage().
   */
  async encodePixels(pixels: Float32Array, options?: { signal?: AbortSignal }): Promise<NativeImageEmbeddings> {
    if (!(pixels instanceof Float32Array)) throw invalidArgument('pixels', 'a Float32Array', pixels);
    const signal = optionalSignal(optionsObject(options, 'options').signal, 'options.signal');
    return this.serial(async (native) => {
      const link = linkAbortSignal(signal, this.inFlight);
      try {
        return await native.encodePixels(pixels, link.flag);
      } finally {
        link.dispose();
      }
    });
  }

  /**
   * Frees the model. Work in progress stops (its promise rejects with ERR_ABORTED); later calls
   * throw ERR_DISPOSED. Safe to call twice.
   */
  dispose(): void {
    for (const flag of this.inFlight) flag.abort();  // running work stops at its next check
    this.native?.dispose();
    this.native = null;
    this.tokenizer.dispose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.dispose();
  }

  /** Runs native work one call at a time, in call order; a failure does not block later calls. */
  private serial<T>(work: (native: NativeModel) => Promise<T>): Promise<T> {
    const run = this.tail.then(() => work(this.use()));
    this.tail = run.catch(() => undefined);
    return run.catch((error: unknown) => {
      throw fromNativeError(error);
    });
  }

  private use(): NativeModel {
    if (!this.native) throw new MoondreamError('ERR_DISPOSED', 'This Moondream model was disposed');
    return this.native;
  }
}
