// A session: one conversation's native state (KV cache, compute buffers, kept image prefixes) on
// a loaded model. Sessions of one model share its weights, its tokenizer, its vision encoder and
// its thread budget; calls on one session run one at a time, calls on different sessions at once.
import { linkAbortSignal } from './abort.js';
import type { Answer, AnswerOptions, GenerateOptions, GenerateResult, SessionInfo } from './api-types.js';
import { ChatSession } from './chat.js';
import { EncodedImage } from './encoded-image.js';
import { MoondreamError, fromNativeError, invalidArgument } from './errors.js';
import type { ImageInput } from './image.js';
import type { ModelInfo } from './model-info.js';
import type { NativeAbortFlag, NativeImageEmbeddings, NativeSession } from './native-types.js';
import {
  chatHistory, optionalFunction, optionalInteger, optionalSignal, optionsObject, pieceCallback, samplingOptions, tokenIds,
} from './options.js';
import { buildPrompt } from './prompt.js';
import { SerialQueue } from './serial-queue.js';
import { streamPieces } from './stream-pieces.js';

/** What a session needs of its model (Moondream implements it). */
export interface SessionHost {
  readonly info: ModelInfo;
  tokenize(text: string): number[];
  encodeImage(input: ImageInput, options?: { signal?: AbortSignal; maxPixels?: number }): Promise<EncodedImage>;
  encodePixels(pixels: Float32Array, options?: { signal?: AbortSignal }): Promise<NativeImageEmbeddings>;
  /** @internal Called when a session is disposed. */
  forgetSession(session: MoondreamSession): void;
}

function tokensPerSecond(tokens: number, decodeMs: number): number {
  return decodeMs > 0 ? (Math.max(0, tokens - 1) * 1000) / decodeMs : 0;
}

export class MoondreamSession {
  private native: NativeSession | null;
  private readonly queue = new SerialQueue();
  /** Abort flags of the native calls running or queued now: dispose() raises them. */
  private readonly inFlight = new Set<NativeAbortFlag>();
  private readonly vocabSize: number;

  /** @internal Use Moondream.createSession(). */
  constructor(native: NativeSession, private readonly host: SessionHost) {
    this.native = native;
    this.vocabSize = host.info.text.vocabSize;
  }

  /** The memory this session holds on top of the shared weights, as of its last call. */
  get info(): SessionInfo {
    return this.use().info();
  }

  /** Whether dispose() was called (on the session or its model). */
  get disposed(): boolean {
    return this.native === null;
  }

  /**
   * Encodes an image with the model's vision tower (the same as Moondream.encodeImage): the result
   * can be asked about on any session of the model.
   */
  async encodeImage(input: ImageInput, options?: { signal?: AbortSignal; maxPixels?: number }): Promise<EncodedImage> {
    this.use();
    return this.host.encodeImage(input, options);
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
      const image = this.checkImage(o.image, 'options.image');
      const at = optionalInteger(o.imageAt, 'options.imageAt', 0, ids.length) ?? ids.length;
      entries = new Int32Array(ids.length + image.rows);
      entries.set(ids.subarray(0, at), 0);
      entries.fill(-1, at, at + image.rows);
      entries.set(ids.subarray(at), at + image.rows);
      rows = image.embeddings;
    }
    return this.serial(signal, (native, flag) => native.evaluate(entries, flag, rows));
  }

  /** Prefills `tokens` from an empty context, then samples new tokens (greedy by default). */
  async generate(tokens: readonly number[], options?: GenerateOptions): Promise<GenerateResult> {
    const ids = tokenIds(tokens, 'tokens', this.vocabSize);
    const o = optionsObject(options, 'options');
    const maxTokens = optionalInteger(o.maxTokens, 'options.maxTokens', 0, 1 << 20) ?? this.host.info.prompt.maxNewTokens;
    const stops = o.stopTokenIds === undefined ? new Int32Array(0) : tokenIds(o.stopTokenIds, 'options.stopTokenIds', this.vocabSize);
    const onToken = optionalFunction<(token: number) => void>(o.onToken, 'options.onToken');
    const signal = optionalSignal(o.signal, 'options.signal');
    const sampling = samplingOptions(o);
    const result = await this.serial(signal, (native, flag) =>
      native.generate(ids, { maxTokens, stopTokenIds: stops, ...sampling }, onToken, flag));
    const tokensOut = Array.from(result.tokens);
    return {
      tokens: tokensOut,
      stoppedByToken: result.stoppedByToken,
      timings: {
        promptTokens: result.promptTokens,
        prefillMs: result.prefillMs,
        decodeMs: result.decodeMs,
        tokensPerSecond: tokensPerSecond(tokensOut.length, result.decodeMs),
      },
    };
  }

  /**
   * Answers a question about an encoded image with moondream1's exact prompt, stop tokens and
   * answer clean-up. A second question about the same image on this session reuses its prefilled
   * prompt prefix.
   */
  async answerQuestion(image: EncodedImage, question: string, options?: AnswerOptions): Promise<string> {
    return (await this.answer(image, question, options)).text;
  }

  /** answerQuestion with the generated tokens and timings. */
  async answer(image: EncodedImage, question: string, options?: AnswerOptions): Promise<Answer> {
    this.checkImage(image, 'image');
    if (typeof question !== 'string') throw invalidArgument('question', 'a string', question);
    const o = optionsObject(options, 'options');
    const history = o.history === undefined ? [] : chatHistory(o.history);
    const profile = this.host.info.prompt;
    const maxTokens = optionalInteger(o.maxTokens, 'options.maxTokens', 0, 1 << 20) ?? profile.maxNewTokens;
    const onPiece = pieceCallback(o);
    const signal = optionalSignal(o.signal, 'options.signal');
    const sampling = samplingOptions(o);
    const { prefix, suffix } = buildPrompt(profile, (text) => this.host.tokenize(text), question, history);
    const result = await this.serial(signal, (native, flag) => native.answer(image.id, image.embeddings, prefix, suffix, {
      maxTokens, stopTokenIds: Int32Array.from(profile.stopTokenIds), stripSuffixes: [...profile.stripSuffixes], ...sampling,
    }, onPiece, flag));
    const tokens = Array.from(result.tokens);
    return {
      text: result.text,
      tokens,
      timings: {
        promptPositions: result.promptPositions,
        reusedPositions: result.reusedPositions,
        prefillMs: result.prefillMs,
        decodeMs: result.decodeMs,
        tokensPerSecond: tokensPerSecond(tokens.length, result.decodeMs),
      },
    };
  }

  /** The answer as an async iterator of text pieces (stops generating if the loop exits early). */
  streamAnswer(image: EncodedImage, question: string, options?: Omit<AnswerOptions, 'onPiece' | 'onToken'>): AsyncIterable<string> {
    return streamPieces((onPiece, signal) => this.answer(image, question, { ...options, onPiece, signal }), options?.signal);
  }

  /** A description of the image (moondream1 has no caption head: it answers a fixed question). */
  async caption(image: EncodedImage, options?: Omit<AnswerOptions, 'history'>): Promise<string> {
    return this.answerQuestion(image, this.host.info.prompt.captionQuestion, options);
  }

  /** A conversation about one image on this session: each answer joins the history of the next question. */
  chat(image: EncodedImage): ChatSession {
    this.checkImage(image, 'image');
    return new ChatSession((question, history, options) => this.answer(image, question, { ...options, history }));
  }

  /**
   * Frees the session's memory. A call in progress stops and rejects with ERR_DISPOSED (its
   * memory goes when it has stopped); later calls throw ERR_DISPOSED. Safe to call twice.
   */
  dispose(): void {
    if (!this.native) return;
    for (const flag of this.inFlight) flag.abort();  // running work stops at its next check
    this.native.dispose();
    this.native = null;
    this.host.forgetSession(this);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.dispose();
  }

  private checkImage(image: unknown, name: string): EncodedImage {
    if (!(image instanceof EncodedImage)) throw invalidArgument(name, 'an EncodedImage from encodeImage()', image);
    if (image.owner !== this.host) throw invalidArgument(name, 'an EncodedImage made by this model', 'one made by another model');
    return image;
  }

  /** Native work in this session's queue, with an abort flag linked to `signal` and to dispose(). */
  private serial<T>(signal: AbortSignal | undefined, work: (native: NativeSession, flag: NativeAbortFlag | undefined) => Promise<T>): Promise<T> {
    this.use();
    return this.queue.run(async () => {
      const native = this.use();
      const link = linkAbortSignal(signal, this.inFlight);
      try {
        return await work(native, link.flag);
      } catch (error) {
        const failure = fromNativeError(error);
        // The abort came from dispose(), not from the caller's signal.
        if (failure.code === 'ERR_ABORTED' && this.disposed && !signal?.aborted) {
          throw new MoondreamError('ERR_DISPOSED', 'The session was disposed during the call');
        }
        throw failure;
      } finally {
        link.dispose();
      }
    });
  }

  private use(): NativeSession {
    if (!this.native) throw new MoondreamError('ERR_DISPOSED', 'This session was disposed');
    return this.native;
  }
}
