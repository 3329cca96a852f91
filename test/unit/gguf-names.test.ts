// GGUF names are defined once, in native/gguf_names.json: the addon was compiled from the table
// the converter reads, no C++ or TypeScript source spells a key or tensor name outside it, and the
// loader's code uses every name the table says it reads. (test/model/converter-names.test.ts holds
// the converter's output to the same table.)
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { compiledGgufNames } from '../../src/gguf/compiled-names.js';
import { GGUF_NAMES, GGUF_NAMES_FILE, TENSOR_SUFFIXES, layerName } from '../../src/gguf/names.js';
import { TABLE_ENTRIES, cppConstant, notReadByLoader, spellsName, type GroupName } from '../helpers/gguf-names.js';
import { cppStringLiterals, tsStringLiterals } from '../helpers/source-literals.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

function sourceFiles(dir: string, extensions: readonly string[]): string[] {
  return readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((name) => extensions.some((ext) => name.endsWith(ext)))
    .map((name) => join(root, dir, name))
    .sort();
}

const CPP_FILES = ['native/src', 'native/addon', 'native/include'].flatMap((dir) => sourceFiles(dir, ['.cpp', '.h']));
const TS_FILES = sourceFiles('src', ['.ts']);
const LOADER_FILES = sourceFiles('native/src', ['.cpp']);

describe('GGUF names: one table', () => {
  it('the addon was compiled from the table the converter reads', () => {
    const { layerPlaceholder, names } = GGUF_NAMES_FILE;
    assert.deepStrictEqual(compiledGgufNames(), { layerPlaceholder, names });
  });

  it('the table holds each name once, and its exception lists name entries it has', () => {
    const seen = new Map<string, string>();
    for (const { group, id, name } of TABLE_ENTRIES) {
      if (group === 'values') continue;  // values may coincide with names (a value is not a key)
      assert.equal(seen.get(name), undefined, `${group}.${id} repeats ${name}`);
      seen.set(name, `${group}.${id}`);
    }
    for (const list of [GGUF_NAMES_FILE.notWrittenByConverter, GGUF_NAMES_FILE.notReadByLoader]) {
      for (const [group, ids] of Object.entries(list)) {
        if (group === '$comment') continue;
        for (const id of ids as string[]) assert.ok(id in (GGUF_NAMES[group as GroupName] ?? {}), `${group}.${id} is not in the table`);
      }
    }
  });

  it('block tensor names take their block index in place of the placeholder', () => {
    assert.equal(layerName(GGUF_NAMES.textTensors.attnQkv, 3) + TENSOR_SUFFIXES.weight, 'blk.3.attn_qkv.weight');
    assert.equal(layerName(GGUF_NAMES.visionTensors.ffnDown, 26) + TENSOR_SUFFIXES.bias, 'v.blk.26.ffn_down.bias');
    assert.throws(() => layerName(GGUF_NAMES.textTensors.output, 0), { code: 'ERR_INTERNAL' });
  });

  it('the pattern that finds spelled-out names finds them', () => {
    for (const literal of ['phi2.rope.freq_base', 'blk.', '.attn_norm.weight', 'v.blk.0.ffn_up.weight', 'mm.3.weight',
      'output.weight', 'has an impossible clip.vision.image_std', 'moondream.vision.gelu', 'tokenizer.ggml.pre']) {
      assert.ok(spellsName(literal), literal);
    }
    for (const literal of ['output', 'moondream.h', 'moondream.Moondream', '../moondream.js', 'model.safetensors', '.weight', 'transformer.h.', 'erf']) {
      assert.ok(!spellsName(literal), literal);
    }
  });

  it('no C++ or TypeScript source spells a key or tensor name: all of them use the table', () => {
    const spelled: string[] = [];
    for (const file of CPP_FILES) {
      for (const literal of cppStringLiterals(readFileSync(file, 'utf8'))) {
        if (spellsName(literal)) spelled.push(`${relative(root, file)}: "${literal}"`);
      }
    }
    for (const file of TS_FILES) {
      for (const literal of tsStringLiterals(readFileSync(file, 'utf8'), file)) {
        if (spellsName(literal)) spelled.push(`${relative(root, file)}: '${literal}'`);
      }
    }
    assert.deepStrictEqual(spelled, []);
  });

  it('the loader uses every name the table says it reads, and none it says it does not', () => {
    const loader = LOADER_FILES.map((file) => readFileSync(file, 'utf8')).join('\n');
    const missing: string[] = [];
    const unexpected: string[] = [];
    for (const entry of TABLE_ENTRIES) {
      const used = new RegExp(`\\b${cppConstant(entry)}\\b`).test(loader);
      if (!used && !notReadByLoader(entry)) missing.push(`${entry.group}.${entry.id} (${cppConstant(entry)})`);
      if (used && notReadByLoader(entry)) unexpected.push(`${entry.group}.${entry.id} (${cppConstant(entry)})`);
    }
    assert.deepStrictEqual({ missing, unexpected }, { missing: [], unexpected: [] });
  });
});
