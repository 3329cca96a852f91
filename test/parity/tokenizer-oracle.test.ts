// The native tokenizer against the oracles: HF's own tokenizer (@huggingface/tokenizers, on the
// CodeGen tokenizer.json rebuilt from GPT-2's files) for ids and text, and js-tiktoken's GPT-2
// encoding where CodeGen and GPT-2 must agree (no runs of two or more spaces or tabs, no
// <|endoftext|> in the text).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { Tiktoken } from 'js-tiktoken/lite';
import gpt2Ranks from 'js-tiktoken/ranks/gpt2';
import { codegenTokenizerJson } from '../../scripts/lib/gpt2-files.js';
import { Tokenizer } from '../../src/index.js';
import { tempDir } from '../helpers/temp-dir.js';
import { LLAMA_CPP_STYLE_STRINGS, generatedStrings, isWellFormed, seededRandom } from '../helpers/tokenizer-strings.js';
import { writeVocabGguf } from '../helpers/vocab-gguf.js';

const GENERATED = 5000;

describe('native tokenizer vs the HF and tiktoken oracles', () => {
  const hf = new HfTokenizer(codegenTokenizerJson(), {});
  const hfIds = (s: string) => hf.encode(s, { add_special_tokens: false }).ids;
  const hfText = (ids: number[]) => hf.decode(ids, { clean_up_tokenization_spaces: false });
  let tokenizer: Tokenizer;

  before(async () => {
    const path = join(tempDir(), 'codegen-vocab.gguf');
    await writeVocabGguf(path);
    tokenizer = await Tokenizer.fromGguf(path);
  });

  // Every disagreement is collected, so that one failure shows the whole picture.
  function compare(strings: readonly string[]) {
    const mismatches: string[] = [];
    for (const s of strings) {
      const ours = tokenizer.tokenize(s);
      const theirs = hfIds(s);
      if (ours.length !== theirs.length || ours.some((id, i) => id !== theirs[i])) {
        mismatches.push(`${JSON.stringify(s).slice(0, 200)}: ours ${JSON.stringify(ours).slice(0, 200)}, HF ${JSON.stringify(theirs).slice(0, 200)}`);
      }
    }
    return mismatches;
  }

  it('matches HF on llama.cpp-style GPT-2 test strings', () => {
    assert.equal(LLAMA_CPP_STYLE_STRINGS.length, 46);
    assert.deepEqual(compare(LLAMA_CPP_STYLE_STRINGS), []);
  });

  it(`matches HF on ${GENERATED} generated strings`, (t) => {
    const strings = generatedStrings(GENERATED, 0x6d6f6f6e);
    const mismatches = compare(strings);
    assert.deepEqual(mismatches.slice(0, 10), [], `${mismatches.length} of ${strings.length} differ`);
    const count = (re: RegExp) => strings.filter((s) => re.test(s)).length;
    t.diagnostic(`${strings.length} strings, ${strings.reduce((n, s) => n + s.length, 0)} UTF-16 units; with runs of 2+ spaces ` +
      `${count(/ {2}/)}, 2+ tabs ${count(/\t{2}/)}, <|endoftext|> ${count(/<\|endoftext\|>/)}, lone surrogates ` +
      `${strings.filter((s) => !isWellFormed(s)).length}, CJK ${count(/\p{Script=Han}/u)}, ZWJ ${count(/\u200d/)}`);
  });

  it('matches js-tiktoken GPT-2 where CodeGen and GPT-2 agree', (t) => {
    const tiktoken = new Tiktoken(gpt2Ranks);
    const strings = [
      ...LLAMA_CPP_STYLE_STRINGS, ...generatedStrings(GENERATED, 0x6d6f6f6e), ...generatedStrings(3000, 0x67707432, { gpt2Only: true }),
    ].filter((s) => !/ {2}|\t{2}|<\|endoftext\|>/.test(s));
    assert.ok(strings.length > 2000, `only ${strings.length} strings qualify`);
    const mismatches: string[] = [];
    for (const s of strings) {
      const ours = tokenizer.tokenize(s);
      const theirs = tiktoken.encode(s, [], []);
      if (ours.length !== theirs.length || ours.some((id, i) => id !== theirs[i])) mismatches.push(JSON.stringify(s).slice(0, 200));
    }
    assert.deepEqual(mismatches.slice(0, 10), [], `${mismatches.length} of ${strings.length} differ`);
    t.diagnostic(`${strings.length} strings compared with js-tiktoken`);
  });

  it('round-trips every well-formed string, and streams the same text in whole characters', (t) => {
    const strings = [...LLAMA_CPP_STYLE_STRINGS, ...generatedStrings(GENERATED, 0x6d6f6f6e)];
    let checked = 0;
    for (const s of strings) {
      const ids = tokenizer.tokenize(s);
      const text = tokenizer.detokenize(ids);
      if (isWellFormed(s)) {
        assert.equal(text, s);
        checked += 1;
      } else {
        // Lone surrogates were tokenized as U+FFFD: that is what comes back.
        assert.equal(text, s.replace(/\p{Surrogate}/gu, '\ufffd'));
      }
      const pieces = tokenizer.detokenizePieces(ids);
      assert.equal(pieces.length, ids.length);
      assert.equal(pieces.join(''), text);
      // Whole characters only: no piece may end in the middle of one (a high surrogate), and no
      // U+FFFD appears that the text does not hold (as it would for a character cut in two).
      const replacements = (text.match(/\ufffd/g) ?? []).length;
      assert.equal(pieces.reduce((n, p) => n + (p.match(/\ufffd/g) ?? []).length, 0), replacements);
      for (const piece of pieces) assert.ok(!/[\ud800-\udbff]$/.test(piece), JSON.stringify(piece));
    }
    assert.ok(checked > 4000, `only ${checked} well-formed strings`);
    t.diagnostic(`${checked} well-formed strings round-tripped, ${strings.length - checked} with lone surrogates`);
  });

  it('decodes any id sequence as HF does, cut characters included', () => {
    // Random ids from the 50,295 tokenizer entries: most sequences cut characters apart.
    const random = seededRandom(7);
    for (let n = 0; n < 2000; n++) {
      const ids = Array.from({ length: 1 + Math.floor(random() * 12) }, () => Math.floor(random() * 50295));
      const expected = hfText(ids);
      assert.equal(tokenizer.detokenize(ids), expected, `ids ${JSON.stringify(ids)}`);
      assert.equal(tokenizer.detokenizePieces(ids).join(''), expected, `ids ${JSON.stringify(ids)}`);
    }
  });
});
