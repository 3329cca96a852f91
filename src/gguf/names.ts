// The GGUF names table, native/gguf_names.json: every metadata key, tensor name and compared value
// the converter writes and the native loader reads. The native build compiles the same file into
// the addon (native/gguf_names.cmake), so the two sides cannot spell a name differently; the type
// comes from the JSON itself, so a name the table lacks does not compile. (Naming the JSON in a
// type makes tsc copy it to dist/native/; nothing reads that copy.)
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MoondreamError } from '../errors.js';

export type GgufNamesFile = typeof import('../../native/gguf_names.json', { with: { type: 'json' } });
export type GgufNamesTable = GgufNamesFile['names'];

/** native/gguf_names.json in the package (this file runs as dist/src/gguf/names.js). */
export const GGUF_NAMES_PATH = join(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..'), 'native', 'gguf_names.json');

function readTable(): GgufNamesFile {
  try {
    return JSON.parse(readFileSync(GGUF_NAMES_PATH, 'utf8')) as GgufNamesFile;
  } catch (error) {
    throw new MoondreamError('ERR_INTERNAL', `Cannot read the GGUF names table ${GGUF_NAMES_PATH}: ${(error as Error).message}`, { cause: error });
  }
}

/** The whole file: the names plus which of them only one side uses (tests). */
export const GGUF_NAMES_FILE: GgufNamesFile = readTable();
export const GGUF_NAMES: GgufNamesTable = GGUF_NAMES_FILE.names;

export const {
  generalKeys: GENERAL_KEYS,
  textKeys: TEXT_KEYS,
  tokenizerKeys: TOKENIZER_KEYS,
  visionKeys: VISION_KEYS,
  profileKeys: PROFILE_KEYS,
  promptKeys: PROMPT_KEYS,
  visionProfileKeys: VISION_PROFILE_KEYS,
  textTensors: TEXT_TENSORS,
  visionTensors: VISION_TENSORS,
  tensorSuffixes: TENSOR_SUFFIXES,
  values: GGUF_VALUES,
} = GGUF_NAMES;

/** A block tensor's base for one block: 'blk.{layer}.attn_qkv', 3 -> 'blk.3.attn_qkv'. */
export function layerName(pattern: string, layer: number): string {
  if (!pattern.includes(GGUF_NAMES_FILE.layerPlaceholder)) {
    throw new MoondreamError('ERR_INTERNAL', `GGUF tensor name ${pattern} has no ${GGUF_NAMES_FILE.layerPlaceholder}`);
  }
  return pattern.replace(GGUF_NAMES_FILE.layerPlaceholder, String(layer));
}
