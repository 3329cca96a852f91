// A loaded model: weights, tokenizer, vision encoder and thread budget, shared by its sessions.
// Moondream's own question-answering methods run on a default session created on first use, so
// code that never creates a session works as before.
import { performance } from 'node:perf_hooks';
import { abortedError, linkAbortSignal } from './abort.js';
import type { Answer, AnswerOptions, GenerateOptions, GenerateResult, LoadOptions, OpTime, SessionOptions } from './api-types.js';
import { runBatch } from './batch/runner.js';
import { resolveBatchOptions, type BatchOptions } from './batch/options.js';
import type { BatchSummary } from './batch/progress.js';
import type { BatchRecord } from './batch/records.js';
import { addon } from './binding.js';
import type { ChatSession } from './chat.js';
import { EncodedImage } from './encoded-image.js';
import { MoondreamError, fromNativeError, invalidArgument } from './errors.js';
import type { ImageInput } from './image.js';
import type { ModelInfo } from './model-info.js';
import { resolveModelFiles, type ModelFiles, type ModelSource } from './model-files.js';
import type { NativeAbortFlag, NativeImageEmbeddings, NativeModel, NativeSessionOptions } from './native-types.js';
import { modelLoadOptions, optionalInteger, optionalSignal, optionsObject, sessionOptions } from './options.js';
import { preprocessImage } from './preprocess.js';
import { SerialQueue } from './serial-queue.js';
import { MoondreamSession, type SessionHost } from './session.js';
import { Tokenizer, type DetokenizeOptions } from './tokenizer.js';

/** A loaded moondream model: weights memory-mapped, validated against the expected layout. */
export class Moondream implements SessionHost {
  private native: NativeModel | null;
  /** Image encodes run one at a time on the model's shared vision encoder. */
  private readonly encodeQueue = new SerialQueue();
  /** Abort flags of the encodes running or queued now: dispose() raises them. */
  private readonly inFlight = new Set<NativeAbortFlag>();
  /** Live sessions, for dispose(); weak, so a session dropped without dispose() can be collected. */
  private readonly sessions = new Set<WeakRef<MoondreamSession>>();
  private defaultSession: MoondreamSession | undefined;
  private readonly cachedInfo: ModelInfo;
  private nextImageId = 1;
  /** The text model's tokenizer (moondream1's CodeGen BPE), sharing the model's vocabulary. */
  readonly tokenizer: Tokenizer;

  private constructor(native: NativeModel, readonly files: Readonly<ModelFiles>, private readonly defaultSessionOptions: NativeSessionOptions) {
    this.native = native;
    this.cachedInfo = native.info();
    this.tokenizer = Tokenizer.fromNative(native.tokenizer());
  }

  /**
   * Loads a GGUF pair: a folder holding `moondream1-text-model-*.gguf` and
   * `moondream1-mmproj-*.gguf`, or explicit `{ text, mmproj }` paths (`mmproj` may be omitted to
   * load the text model alone). Every key, tensor name, shape and type is checked before use.
   * `options` holds the model's thread budget and the options of its default session.
   */
  static async load(source: ModelSource, options?: LoadOptions): Promise<Moondream> {
    const o = optionsObject(options, 'options');
    const model = modelLoadOptions(o);
    const session = sessionOptions(o);
    const files = await resolveModelFiles(source);
    try {
      const native = await addon().loadModel(files.text, files.mmproj ?? '', model);
      return new Moondream(native, Object.freeze({ ...files }), session);
    } catch (error) {
      throw fromNativeError(error);
    }
  }

  /** Dimensions and prompt profile of the loaded pair, the thread budget and shared buffers. */
  get info(): ModelInfo {
    const native = this.use();
    return { ...this.cachedInfo, visionComputeBytes: native.info().visionComputeBytes };
  }

  /**
   * Where the compute time went since load or the last call, op by op (ggml's ops and our
   * kernels), summed per graph; and a fresh start. Empty unless loaded with `profileOps: true`.
   */
  takeOpProfile(): OpTime[] {
    return this.use().takeOpProfile();
  }

  /**
   * A new session on this model: its own KV cache, compute buffers and kept image prefixes (a
   * conversation's state); the weights, tokenizer and vision encoder are shared. Sessions run at
   * the same time; their graph computes take turns on the model's threads.
   */
  createSession(options?: SessionOptions): MoondreamSession {
    const native = this.use();
    const params = sessionOptions(optionsObject(options, 'options'));
    let created;
    try {
      created = native.createSession(params);
    } catch (error) {
      throw fromNativeError(error);
    }
    const session = new MoondreamSession(created, this);
    for (const ref of this.sessions) if (ref.deref() === undefined) this.sessions.delete(ref);
    this.sessions.add(new WeakRef(session));
    return session;
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
   * Decodes an image (path, Buffer, Uint8Array, ArrayBuffer or sharp instance; JPEG, PNG, WebP,
   * GIF, AVIF, TIFF), preprocesses it exactly as moondream1 does (with the side, mean and std of
   * this model's mmproj) and encodes it with the vision tower. The result can be asked any number of questions, on any session of this model.
   */
  async encodeImage(input: ImageInput, options?: { signal?: AbortSignal; maxPixels?: number }): Promise<EncodedImage> {
    const o = optionsObject(options, 'options');
    const signal = optionalSignal(o.signal, 'options.signal');
    const maxPixels = optionalInteger(o.maxPixels, 'options.maxPixels', 1, Number.MAX_SAFE_INTEGER);
    this.requireVision();
    if (signal?.aborted) throw abortedError();
    const start = performance.now();
    const pixels = await this.preprocess(input, maxPixels === undefined ? {} : { maxPixels });
    return this.encodeImagePixels(pixels, start, signal);
  }

  /**
   * The first half of encodeImage(): decodes and preprocesses an image for this model's vision
   * tower (its mmproj's image size, mean and std), on the libuv pool, not the compute threads.
   */
  async preprocess(input: ImageInput, options?: { maxPixels?: number }): Promise<Float32Array> {
    const maxPixels = optionalInteger(optionsObject(options, 'options').maxPixels, 'options.maxPixels', 1, Number.MAX_SAFE_INTEGER);
    const vision = this.requireVision();
    const { imageSize, imageMean, imageStd } = vision;
    return preprocessImage(input, { imageSize, imageMean, imageStd, ...(maxPixels === undefined ? {} : { maxPixels }) });
  }

  /**
   * The second half of encodeImage(): pixels from preprocess() to an EncodedImage. With the
   * two halves apart, the next image can be decoded and preprocessed while this one is encoded
   * and asked about (the batch runner does so).
   */
  async encodePreprocessed(pixels: Float32Array, options?: { signal?: AbortSignal }): Promise<EncodedImage> {
    const signal = optionalSignal(optionsObject(options, 'options').signal, 'options.signal');
    if (!(pixels instanceof Float32Array)) throw invalidArgument('pixels', 'a Float32Array from preprocess()', pixels);
    this.requireVision();
    return this.encodeImagePixels(pixels, performance.now(), signal);
  }

  private requireVision(): NonNullable<ModelInfo['vision']> {
    const vision = this.info.vision;
    if (!vision) {
      throw new MoondreamError('ERR_INVALID_ARGUMENT', 'This model was loaded without its mmproj file, so it cannot encode images');
    }
    return vision;
  }

  private async encodeImagePixels(pixels: Float32Array, start: number, signal: AbortSignal | undefined): Promise<EncodedImage> {
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
   * Encodes already preprocessed pixels (normalised CHW floats, 3 x 378 x 378) into the image rows
   * the text model reads: a test and tool surface under encodeImage().
   */
  async encodePixels(pixels: Float32Array, options?: { signal?: AbortSignal }): Promise<NativeImageEmbeddings> {
    if (!(pixels instanceof Float32Array)) throw invalidArgument('pixels', 'a Float32Array', pixels);
    const signal = optionalSignal(optionsObject(options, 'options').signal, 'options.signal');
    this.use();
    return this.encodeQueue.run(async () => {
      const native = this.use();
      const link = linkAbortSignal(signal, this.inFlight);
      try {
        return await native.encodePixels(pixels, link.flag);
      } catch (error) {
        throw fromNativeError(error);
      } finally {
        link.dispose();
      }
    });
  }

  /**
   * Asks the same questions about many images: `inputs` are files, folders (walked recursively),
   * glob patterns or list files (*.txt, one path a line). Yields one result or error per (file,
   * question) as it is known and returns the run's summary. With `out`, results are appended to a
   * JSONL file and a rerun skips what it already holds. Runs on a session of its own.
   */
  batch(inputs: string | readonly string[], options?: BatchOptions): AsyncGenerator<BatchRecord, BatchSummary, undefined> {
    this.use();
    return runBatch(this, resolveBatchOptions(inputs, options, this.cachedInfo.prompt.captionQuestion));
  }

  // ---- the default session's conversation ----------------------------------------------------------

  /** Logits of the last position after `tokens`, from an empty context (on the default session). */
  async evaluate(tokens: readonly number[], options?: { signal?: AbortSignal; image?: EncodedImage; imageAt?: number }): Promise<Float32Array> {
    return this.session().evaluate(tokens, options);
  }

  /** Prefills `tokens` from an empty context, then samples new tokens (on the default session). */
  async generate(tokens: readonly number[], options?: GenerateOptions): Promise<GenerateResult> {
    return this.session().generate(tokens, options);
  }

  /** MoondreamSession.answerQuestion on the default session. */
  async answerQuestion(image: EncodedImage, question: string, options?: AnswerOptions): Promise<string> {
    return this.session().answerQuestion(image, question, options);
  }

  /** MoondreamSession.answer on the default session. */
  async answer(image: EncodedImage, question: string, options?: AnswerOptions): Promise<Answer> {
    return this.session().answer(image, question, options);
  }

  /** MoondreamSession.streamAnswer on the default session. */
  streamAnswer(image: EncodedImage, question: string, options?: Omit<AnswerOptions, 'onPiece' | 'onToken'>): AsyncIterable<string> {
    return this.session().streamAnswer(image, question, options);
  }

  /** MoondreamSession.caption on the default session. */
  async caption(image: EncodedImage, options?: Omit<AnswerOptions, 'history'>): Promise<string> {
    return this.session().caption(image, options);
  }

  /** MoondreamSession.chat on the default session. */
  chat(image: EncodedImage): ChatSession {
    return this.session().chat(image);
  }

  /**
   * Frees the model and disposes its sessions: calls in progress stop and reject with
   * ERR_DISPOSED (or ERR_ABORTED for an image encode); later calls throw ERR_DISPOSED. Safe to
   * call twice.
   */
  dispose(): void {
    if (!this.native) return;
    for (const ref of [...this.sessions]) ref.deref()?.dispose();
    for (const flag of this.inFlight) flag.abort();
    this.native.dispose();
    this.native = null;
    this.tokenizer.dispose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.dispose();
  }

  /** @internal */
  forgetSession(session: MoondreamSession): void {
    for (const ref of this.sessions) if (ref.deref() === session) this.sessions.delete(ref);
    if (this.defaultSession === session) this.defaultSession = undefined;
  }

  /** The default session, created with the load options on first use. */
  private session(): MoondreamSession {
    this.use();
    this.defaultSession ??= this.createSession(this.defaultSessionOptions);
    return this.defaultSession;
  }

  private use(): NativeModel {
    if (!this.native) throw new MoondreamError('ERR_DISPOSED', 'This Moondream model was disposed');
    return this.native;
  }
}
