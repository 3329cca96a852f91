// Validation of a safetensors header, before a single tensor byte is trusted: every entry's dtype,
// shape and data offsets are checked against each other and against the data section, so that a
// hostile or truncated file fails here with a message that names the problem.
import { MoondreamError } from '../errors.js';
import {
  SAFETENSORS_DTYPE_BYTES, SAFETENSORS_METADATA_KEY, elementCount, isSafetensorsDtype, type SafetensorsDtype,
} from './safetensors-format.js';

/** A header larger than this is refused without being read: real ones are well under 1 MB. */
export const SAFETENSORS_MAX_HEADER_BYTES = 100_000_000;

export interface SafetensorsTensorInfo {
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  readonly byteLength: number;
  /** Offset of the tensor's first byte relative to the data section, as data_offsets[0]. */
  readonly begin: number;
}

export interface SafetensorsHeader {
  /** Tensors in the order of their data in the file. */
  readonly tensors: ReadonlyMap<string, SafetensorsTensorInfo>;
  /** The "__metadata__" string map; empty when the file has none. */
  readonly metadata: Readonly<Record<string, string>>;
}

/** ERR_MODEL_FORMAT with the one message shape every safetensors problem uses. */
export function safetensorsFormatError(file: string, problem: string): MoondreamError {
  return new MoondreamError('ERR_MODEL_FORMAT', `Invalid safetensors file ${file}: ${problem}`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isIndex(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Short rendering of a JSON value for a one-line message. */
function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * Parses and validates the JSON header of `file` (named only for messages), given the size of the
 * data section that follows it. Throws ERR_MODEL_FORMAT naming the first problem found.
 */
export function parseSafetensorsHeader(file: string, headerBytes: Uint8Array, dataByteLength: number): SafetensorsHeader {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw safetensorsFormatError(file, 'the header is not valid UTF-8');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw safetensorsFormatError(file, `the header is not JSON (${(error as Error).message})`);
  }
  if (!isPlainObject(parsed)) throw safetensorsFormatError(file, 'the header is not a JSON object');

  let metadata: Record<string, string> = {};
  const entries: [string, SafetensorsTensorInfo][] = [];
  for (const [name, entry] of Object.entries(parsed)) {
    if (name === SAFETENSORS_METADATA_KEY) {
      if (!isPlainObject(entry) || !Object.values(entry).every((v) => typeof v === 'string')) {
        throw safetensorsFormatError(file, `"${SAFETENSORS_METADATA_KEY}" is not a map of strings`);
      }
      metadata = { ...(entry as Record<string, string>) };
      continue;
    }
    entries.push([name, validateEntry(file, name, entry, dataByteLength)]);
  }

  entries.sort(([, a], [, b]) => a.begin - b.begin || a.byteLength - b.byteLength);
  let previous: [string, SafetensorsTensorInfo] | undefined;
  for (const current of entries) {
    if (current[1].byteLength === 0) continue; // an empty tensor occupies no bytes, so overlaps nothing
    if (previous && current[1].begin < previous[1].begin + previous[1].byteLength) {
      throw safetensorsFormatError(file, `tensors "${previous[0]}" ${offsetsOf(previous[1])} and "${current[0]}" ${offsetsOf(current[1])} overlap`);
    }
    previous = current;
  }
  return { tensors: new Map(entries), metadata };
}

function offsetsOf(info: SafetensorsTensorInfo): string {
  return `[${info.begin}, ${info.begin + info.byteLength}]`;
}

function validateEntry(file: string, name: string, entry: unknown, dataByteLength: number): SafetensorsTensorInfo {
  const tensor = `tensor "${name}"`;
  if (!isPlainObject(entry)) throw safetensorsFormatError(file, `${tensor} is described by ${show(entry)}, not an object`);
  const { dtype, shape, data_offsets: offsets } = entry;
  if (typeof dtype !== 'string') throw safetensorsFormatError(file, `${tensor} has no dtype string`);
  if (!isSafetensorsDtype(dtype)) {
    throw safetensorsFormatError(file, `${tensor} has dtype ${dtype}, which is not supported (expected F32, F16 or BF16)`);
  }
  if (!Array.isArray(shape) || !shape.every(isIndex)) {
    throw safetensorsFormatError(file, `${tensor} has shape ${show(shape)}, not a list of non-negative integers`);
  }
  const expectedBytes = elementCount(shape) * SAFETENSORS_DTYPE_BYTES[dtype];
  if (!Number.isSafeInteger(expectedBytes)) throw safetensorsFormatError(file, `${tensor} has shape [${shape.join(', ')}], too large to address`);
  const pair = Array.isArray(offsets) && offsets.length === 2 && offsets.every(isIndex) ? offsets as [number, number] : undefined;
  if (!pair || pair[0] > pair[1]) {
    throw safetensorsFormatError(file, `${tensor} has data_offsets ${show(offsets)}, not a pair [begin, end] with begin <= end`);
  }
  const [begin, end] = pair;
  if (end - begin !== expectedBytes) {
    throw safetensorsFormatError(file,
      `${tensor} (${dtype}, shape [${shape.join(', ')}]) needs ${expectedBytes} bytes but its data_offsets [${begin}, ${end}] span ${end - begin}`);
  }
  if (end > dataByteLength) {
    throw safetensorsFormatError(file,
      `${tensor} has data_offsets [${begin}, ${end}] past the end of the ${dataByteLength}-byte data section (is the file truncated?)`);
  }
  return { dtype, shape: [...shape] as number[], byteLength: expectedBytes, begin };
}
