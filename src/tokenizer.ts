// moondream1's tokenizer (CodeGen: GPT-2 byte-level BPE plus whitespace tokens), running natively
// with HF CodeGenTokenizerFast's exact behaviour. A loaded model will own one; it can also be
// used alone, from any GGUF file that carries a gpt2 vocabulary (tokenizer.ggml.* keys).
import { addon } from './binding.js';
import type { NativeTokenizer } from './native-types.js';
import { MoondreamError, fromNativeError, invalidArgument } from './errors.js';

export interface DetokenizeOptions {
  /** Leave out control tokens such as <|endoftext|> (HF's skip_special_tokens). Default false. */
  skipSpecialTokens?: boolean;
}

export class Tokenizer {
  /** Number of token ids: the model's embedding rows, unused filler rows included (51,200). */
  readonly vocabSize: number;
  #native: NativeTokenizer | undefined;

  private constructor(native: NativeTokenizer) {
    this.#native = native;
    this.vocabSize = native.vocabSize;
  }

  /** @internal Wraps a tokenizer the native side already holds (a loaded model's). */
  static fromNative(native: NativeTokenizer): Tokenizer {
    return new Tokenizer(native);
  }

  /**
   * Loads the vocabulary of a GGUF file, on a worker thread. Rejects with ERR_IO when the file
   * cannot be read and ERR_MODEL_FORMAT when it is not GGUF or its vocabulary is invalid.
   */
  static async fromGguf(path: string): Promise<Tokenizer> {
    if (typeof path !== 'string' || path.length === 0) throw invalidArgument('path', 'a non-empty string', path);
    if (path.includes('\0')) throw invalidArgument('path', 'a path without NUL characters', path);
    const native = new (addon().Tokenizer)();
    try {
      await native.load(path);
    } catch (error) {
      throw fromNativeError(error);
    }
    return new Tokenizer(native);
  }

  /**
   * Token ids of `text`, with no BOS added. Lone surrogates become U+FFFD, as when the string is
   * encoded to UTF-8; "<|endoftext|>" written in the text is the control token 50256, as in HF.
   */
  tokenize(text: string): number[] {
    const native = this.#live();
    if (typeof text !== 'string') throw invalidArgument('text', 'a string', text);
    return Array.from(native.tokenize(text));
  }

  /**
   * The text of `ids`. Bytes that do not form UTF-8 (a character cut off by the end of `ids`)
   * become U+FFFD, as HF's decoder does; unused filler ids give no text.
   */
  detokenize(ids: readonly number[], options: DetokenizeOptions = {}): string {
    const native = this.#live();
    return call(() => native.detokenize(this.#ids(ids), skipSpecial(options)));
  }

  /**
   * What streaming detokenization emits for each id: `pieces[i]` is the text that `ids[i]`
   * completes. A character whose bytes are split across ids appears once, whole, in the piece of
   * the id that finishes it; an unfinished character at the end appears as U+FFFD in the last
   * piece. `pieces.join('')` equals `detokenize(ids)`.
   */
  detokenizePieces(ids: readonly number[], options: DetokenizeOptions = {}): string[] {
    const native = this.#live();
    return call(() => native.detokenizePieces(this.#ids(ids), skipSpecial(options)));
  }

  /**
   * What answering streams for these generated ids: the pieces handed to onToken and the final
   * post-processed answer (suffixes stripped in order, then whitespace), as moondream1 does.
   */
  answerPieces(ids: readonly number[], stripSuffixes: readonly string[]): { pieces: string[]; answer: string } {
    const native = this.#live();
    if (!Array.isArray(stripSuffixes) || !stripSuffixes.every((x) => typeof x === 'string')) {
      throw invalidArgument('stripSuffixes', 'an array of strings', stripSuffixes);
    }
    return call(() => native.answerPieces(this.#ids(ids), [...stripSuffixes]));
  }

  /** Frees the vocabulary. Later calls throw ERR_DISPOSED; disposing again does nothing. */
  dispose(): void {
    this.#native?.dispose();
    this.#native = undefined;
  }

  #live(): NativeTokenizer {
    if (!this.#native) throw new MoondreamError('ERR_DISPOSED', 'This Tokenizer has been disposed');
    return this.#native;
  }

  #ids(ids: readonly number[]): Int32Array {
    if (!Array.isArray(ids)) throw invalidArgument('ids', 'an array of token ids', ids);
    const out = new Int32Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const id: unknown = ids[i];
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
        throw invalidArgument(`ids[${i}]`, `an integer token id from 0 to ${this.vocabSize - 1}`, id);
      }
      out[i] = id;
    }
    return out;
  }
}

function skipSpecial(options: DetokenizeOptions): boolean {
  if (typeof options !== 'object' || options === null) throw invalidArgument('options', 'an object', options);
  const { skipSpecialTokens = false } = options;
  if (typeof skipSpecialTokens !== 'boolean') {
    throw invalidArgument('options.skipSpecialTokens', 'a boolean', skipSpecialTokens);
  }
  return skipSpecialTokens;
}

function call<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw fromNativeError(error);
  }
}
