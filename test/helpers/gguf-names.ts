// Views of the names table (src/gguf/names.ts) for the tests that hold both sides to it.
import { GGUF_NAMES, GGUF_NAMES_FILE, TENSOR_SUFFIXES, type GgufNamesTable } from '../../src/gguf/names.js';

export type GroupName = keyof GgufNamesTable;

export interface TableEntry {
  group: GroupName;
  id: string;
  name: string;
}

export const TABLE_ENTRIES: TableEntry[] = Object.entries(GGUF_NAMES).flatMap(([group, ids]) =>
  Object.entries(ids as Record<string, string>).map(([id, name]) => ({ group: group as GroupName, id, name })));

type Exceptions = Partial<Record<GroupName, readonly string[]>>;

function isException(list: Exceptions, entry: TableEntry): boolean {
  return list[entry.group]?.includes(entry.id) ?? false;
}

/** Ids the converter never writes (names it reads from other converters' files, or rejects). */
export const notWrittenByConverter = (entry: TableEntry) => isException(GGUF_NAMES_FILE.notWrittenByConverter as Exceptions, entry);
/** Ids the loader never reads (written for llama.cpp). */
export const notReadByLoader = (entry: TableEntry) => isException(GGUF_NAMES_FILE.notReadByLoader as Exceptions, entry);

/** The C++ constant the generator makes of a table entry: textKeys.headCountKv -> text_keys::head_count_kv. */
export function cppConstant(entry: Pick<TableEntry, 'group' | 'id'>): string {
  const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  return `${snake(entry.group)}::${snake(entry.id)}`;
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const KEY_GROUPS: GroupName[] = ['generalKeys', 'textKeys', 'tokenizerKeys', 'visionKeys', 'profileKeys', 'promptKeys', 'visionProfileKeys'];
const TENSOR_GROUPS: GroupName[] = ['textTensors', 'visionTensors'];
const placeholder = GGUF_NAMES_FILE.layerPlaceholder;

// What a spelled-out GGUF name looks like: a key namespace, a block or projector tensor prefix, a
// table key, a top-level tensor's full name, or a block tensor's own part ("attn_qkv").
const SPELLED_NAME = [
  /(^|[^A-Za-z0-9_])(general|phi2|clip|tokenizer\.ggml|moondream)\.[a-z_]{2}/,
  /(^|[^A-Za-z0-9_])((v\.)?blk|mm|v)\.([a-z0-9{]|$)/,
  ...TABLE_ENTRIES.filter((e) => KEY_GROUPS.includes(e.group)).map((e) => new RegExp(escape(e.name))),
  ...TABLE_ENTRIES.filter((e) => TENSOR_GROUPS.includes(e.group) && !e.name.includes(placeholder))
    .flatMap((e) => Object.values(TENSOR_SUFFIXES).map((suffix) => new RegExp(`(^|[^A-Za-z0-9_])${escape(e.name + suffix)}`))),
  ...TABLE_ENTRIES.filter((e) => TENSOR_GROUPS.includes(e.group) && e.name.includes(placeholder))
    .map((e) => new RegExp(escape(e.name.slice(e.name.lastIndexOf(placeholder) + placeholder.length + 1)))),
];
// A relative module path ('../moondream.js') names a source file, not a GGUF key.
const MODULE_PATH = /^\.\.?\//;
/** Whether a string literal spells out a GGUF key or tensor name (or a piece of one). */
export const spellsName = (literal: string) => !MODULE_PATH.test(literal) && SPELLED_NAME.some((pattern) => pattern.test(literal));
