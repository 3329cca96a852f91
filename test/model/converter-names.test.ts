// The tiny checkpoint's GGUF pair holds exactly the names of the table (native/gguf_names.json)
// that the loader was compiled with (test/unit/gguf-names.test.ts): every key and tensor the
// converter writes is one the loader knows, and every name the loader knows is written, unless
// the table lists it as one only the other side uses.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GGUF_NAMES_FILE, TENSOR_SUFFIXES } from '../../src/gguf/names.js';
import { readGgufInfo, type GgufInfo } from '../../src/index.js';
import { TABLE_ENTRIES, notWrittenByConverter, type GroupName, type TableEntry } from '../helpers/gguf-names.js';
import { tinyPair } from '../helpers/tiny-model.js';

const TINY_BLOCKS = 2;
const placeholder = GGUF_NAMES_FILE.layerPlaceholder;

// Which groups each file draws on, and the table names that file leaves out though the other has them.
const FILES = {
  text: {
    keys: ['generalKeys', 'textKeys', 'tokenizerKeys', 'profileKeys', 'promptKeys'],
    tensors: 'textTensors',
    notInThisFile: [] as string[],
  },
  mmproj: {
    keys: ['generalKeys', 'visionKeys', 'profileKeys', 'visionProfileKeys'],
    tensors: 'visionTensors',
    // llama.cpp reads the quantization version of the text model only.
    notInThisFile: ['generalKeys.quantizationVersion'],
  },
} satisfies Record<string, { keys: GroupName[]; tensors: GroupName; notInThisFile: string[] }>;

const inGroups = (groups: readonly GroupName[]) => TABLE_ENTRIES.filter((e) => groups.includes(e.group));
const label = (e: TableEntry) => `${e.group}.${e.id}`;

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

interface TensorHit {
  block?: number;
  suffix: string;
}

/** Which table tensor each tensor of the file is, with its block (if any) and suffix. */
function matchTensors(info: GgufInfo, table: readonly TableEntry[]): { found: Map<TableEntry, TensorHit[]>; unknown: string[] } {
  const suffixes = Object.values(TENSOR_SUFFIXES).map(escape).join('|');
  const patterns = table.map((entry) => ({
    entry,
    regex: new RegExp(`^${escape(entry.name).replace(escape(placeholder), '(?<block>\\d+)')}(?<suffix>${suffixes})$`),
  }));
  const found = new Map<TableEntry, TensorHit[]>();
  const unknown: string[] = [];
  for (const { name } of info.tensors) {
    const hit = patterns.map(({ entry, regex }) => ({ entry, groups: regex.exec(name)?.groups })).find(({ groups }) => groups);
    if (!hit) {
      unknown.push(name);
      continue;
    }
    const { block, suffix } = hit.groups!;
    found.set(hit.entry, [...(found.get(hit.entry) ?? []), { ...(block === undefined ? {} : { block: Number(block) }), suffix: suffix! }]);
  }
  return { found, unknown };
}

describe('converter output and the names table', () => {
  for (const [file, spec] of Object.entries(FILES)) {
    it(`${file}: every metadata key is in the table, and every table key for the file is written`, async () => {
      const pair = await tinyPair('q4_0', 'q8_0');
      const info = await readGgufInfo(file === 'text' ? pair.textPath : pair.mmprojPath);
      const written = info.metadata.map((m) => m.key);
      const expected = inGroups(spec.keys);
      const known = new Set(expected.map((e) => e.name));
      const absent = (e: TableEntry) => notWrittenByConverter(e) || spec.notInThisFile.includes(label(e));
      assert.deepStrictEqual({
        notInTable: written.filter((key) => !known.has(key)),
        notWritten: expected.filter((e) => !absent(e) && !written.includes(e.name)).map(label),
        writtenThoughListedAbsent: expected.filter((e) => absent(e) && written.includes(e.name)).map(label),
      }, { notInTable: [], notWritten: [], writtenThoughListedAbsent: [] });
    });

    it(`${file}: every tensor is a table name, and every table tensor is written for each block`, async () => {
      const pair = await tinyPair('q4_0', 'q8_0');
      const info = await readGgufInfo(file === 'text' ? pair.textPath : pair.mmprojPath);
      const expected = inGroups([spec.tensors]);
      const { found, unknown } = matchTensors(info, expected);
      assert.deepStrictEqual({
        unknown,
        notWritten: expected.filter((e) => !notWrittenByConverter(e) && !found.has(e)).map(label),
        writtenThoughListedAbsent: expected.filter((e) => notWrittenByConverter(e) && found.has(e)).map(label),
      }, { unknown: [], notWritten: [], writtenThoughListedAbsent: [] });
      // A block tensor is there for every block, with the same suffixes in each.
      for (const [entry, hits] of found) {
        if (!entry.name.includes(placeholder)) continue;
        const blocks = new Set(hits.map((h) => h.block));
        const suffixes = new Set(hits.map((h) => h.suffix));
        assert.deepStrictEqual([...blocks].sort(), Array.from({ length: TINY_BLOCKS }, (_, i) => i), label(entry));
        assert.equal(hits.length, blocks.size * suffixes.size, label(entry));
      }
    });
  }

  it('every value the converter writes is a table value, and the table values it does not write are listed', async () => {
    const pair = await tinyPair('q4_0', 'q8_0');
    const strings = new Set<string>();
    for (const path of [pair.textPath, pair.mmprojPath]) {
      for (const m of (await readGgufInfo(path)).metadata) if (m.type === 'string') strings.add(m.value as string);
    }
    const values = inGroups(['values']);
    assert.deepStrictEqual(
      values.filter((e) => strings.has(e.name) === notWrittenByConverter(e)).map(label), [],
      'a value is written exactly when the table does not list it as not written');
  });
});
