// Option validation for the public API: every option is checked in TypeScript, with messages of
// the form "Expected X for Y but received Z", before anything crosses into C++.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

import type { SamplingOptions } from './api-types.js';
import { invalidArgument } from './errors.js';
import type { NativeLoadOptions, NativeSessionOptions } from './native-types.js';
import type { ChatTurn } from './prompt.js';

export function optionalInteger(value: unknown, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidArgument(name, `an integer from ${min} to ${max}`, value);
  }
  return value;
}

export function optionalNumber(value: unknown, name: string, min: number, max: number, minExclusive = false): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value > max || (minExclusive ? value <= min : value < min)) {
    throw invalidArgument(name, `a number ${minExclusive ? 'above' : 'from'} ${min}${max === Infinity ? '' : ` to ${max}`}`, value);
  }
  return value;
}

export function optionalBoolean(value: unknown, name: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw invalidArgument(name, 'a boolean', value);
  return value;
}

export function optionalFunction<T extends (...args: never[]) => unknown>(value: unknown, name: string): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw invalidArgument(name, 'a function', value);
  return value as T;
}

export function optionalSignal(value: unknown, name: string): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof AbortSignal)) throw invalidArgument(name, 'an AbortSignal', value);
  return value;
}

export function optionalEnum<T extends string>(value: unknown, name: string, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw invalidArgument(name, `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, value);
  }
  return value as T;
}

export function optionsObject(value: unknown, name: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidArgument(name, 'an options object', value);
  return value as Record<string, unknown>;
}

/** Token ids: integers in [0, vocabSize). */
export function tokenIds(value: unknown, name: string, vocabSize: number): Int32Array {
  const ids = value instanceof Int32Array ? value : Array.isArray(value) ? value : undefined;
  if (ids === undefined) throw invalidArgument(name, 'an array of token ids', value);
  const out = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const id: unknown = ids[i];
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= vocabSize) {
      throw invalidArgument(`${name}[${i}]`, `a token id from 0 to ${vocabSize - 1}`, id);
    }
    out[i] = id;
  }
  return out;
}

/** Sampling options with the undefined ones left out. */
export function samplingOptions(o: Record<string, unknown>): SamplingOptions {
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

export function chatHistory(value: unknown): ChatTurn[] {
  if (!Array.isArray(value)) throw invalidArgument('options.history', 'an array of { question, answer }', value);
  return value.map((turn: unknown, i) => {
    const t = turn as Partial<ChatTurn> | null;
    if (typeof t !== 'object' || t === null || typeof t.question !== 'string' || typeof t.answer !== 'string') {
      throw invalidArgument(`options.history[${i}]`, '{ question: string, answer: string }', turn);
    }
    return { question: t.question, answer: t.answer };
  });
}

/** The session options in `o` (other keys are ignored: load options carry both kinds). */
export function sessionOptions(o: Record<string, unknown>): NativeSessionOptions {
  const out: NativeSessionOptions = {};
  const contextSize = optionalInteger(o.contextSize, 'options.contextSize', 1, 1 << 20);
  const batchSize = optionalInteger(o.batchSize, 'options.batchSize', 1, 1 << 16);
  const kvCacheType = optionalEnum(o.kvCacheType, 'options.kvCacheType', ['f16', 'f32'] as const);
  const gelu = optionalEnum(o.gelu, 'options.gelu', ['exact', 'fast'] as const);
  const prefixCacheBytes = optionalInteger(o.prefixCacheBytes, 'options.prefixCacheBytes', 0, Number.MAX_SAFE_INTEGER);
  if (contextSize !== undefined) out.contextSize = contextSize;
  if (batchSize !== undefined) out.batchSize = batchSize;
  if (kvCacheType !== undefined) out.kvCacheType = kvCacheType;
  if (gelu !== undefined) out.gelu = gelu;
  if (prefixCacheBytes !== undefined) out.prefixCacheBytes = prefixCacheBytes;
  if (o.flashAttention !== undefined) {
    if (typeof o.flashAttention !== 'boolean') throw invalidArgument('options.flashAttention', 'a boolean', o.flashAttention);
    out.flashAttention = o.flashAttention;
  }
  return out;
}

/** The model's own load options in `o`. */
export function modelLoadOptions(o: Record<string, unknown>): NativeLoadOptions {
  const out: NativeLoadOptions = {};
  const threads = optionalInteger(o.threads, 'options.threads', 1, 1024);
  const repackWeights = optionalBoolean(o.repackWeights, 'options.repackWeights');
  const vnniKernel = optionalBoolean(o.vnniKernel, 'options.vnniKernel');
  const profileOps = optionalBoolean(o.profileOps, 'options.profileOps');
  const releaseVisionWeights = optionalBoolean(o.releaseVisionWeights, 'options.releaseVisionWeights');
  const cache = o.packedWeightCache;
  if (cache !== undefined && cache !== false && (typeof cache !== 'string' || cache === '')) {
    throw invalidArgument('options.packedWeightCache', 'a directory path or false', cache);
  }
  out.packedCacheDir = cache === false ? '' : cache === undefined ? defaultPackedCacheDir() : resolve(cache);
  if (threads !== undefined) out.threads = threads;
  if (repackWeights !== undefined) out.repackWeights = repackWeights;
  if (vnniKernel !== undefined) out.vnniKernel = vnniKernel;
  if (profileOps !== undefined) out.profileOps = profileOps;
  if (releaseVisionWeights !== undefined) out.releaseVisionWeights = releaseVisionWeights;
  return out;
}

/** `onPiece`, or its deprecated alias `onToken`; not both. */
export function pieceCallback(o: Record<string, unknown>): ((piece: string) => void) | undefined {
  const onPiece = optionalFunction<(piece: string) => void>(o.onPiece, 'options.onPiece');
  const onToken = optionalFunction<(piece: string) => void>(o.onToken, 'options.onToken');
  if (onPiece && onToken) throw invalidArgument('options.onToken', 'nothing when options.onPiece is given (onToken is its old name)', onToken);
  return onPiece ?? onToken;
}

/** Where packed weights are cached when `packedWeightCache` is not given (ModelLoadOptions). */
export function defaultPackedCacheDir(): string {
  const fromEnv = process.env.MOONDREAM_PACKED_CACHE_DIR;
  if (fromEnv) return resolve(fromEnv);
  const cacheHome = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cacheHome, 'moondream-ggml', 'packed');
}
