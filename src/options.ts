// Option validation for the public API: every option is checked in TypeScript, with messages of
// the form "Expected X for Y but received Z", before anything crosses into C++.
import { invalidArgument } from './errors.js';

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
