// The native Tokenizer on fixed vectors (moondream1's prompt, transformers' CodeGen tests, the
// CodeGen whitespace rules), its decoding rules, its argument checks, and its refusal of broken
// vocabularies. The oracle comparisons on thousands of strings are in test/parity.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { codegenTokenizerJson } from '../../scripts/lib/gpt2-files.js';
import { MoondreamError, Tokenizer, type GgufMetadataEntry, type GgufValue } from '../../src/index.js';
import { tempDir } from '../helpers/temp-dir.js';
import { codegenVocabMetadata, writeVocabGguf } from '../helpers/vocab-gguf.js';

const dir = tempDir();
let counter = 0;
const nextPath = () => join(dir, `vocab-${counter++}.gguf`);

// transformers tests/models/codegen/test_tokenization_codegen.py, integration test against
// Salesforce/codegen-350M-mono (the same tokenizer as Phi-1.5's and so moondream1's).
const CODEGEN_TEXT = 'I was born in 92000, and this is falsé.\n生活的真谛是\nHi  Hello\nHi   Hello\n\n \n  \n Hello\n' +
  '<s>\nhi<s>there\nThe following string should be properly encoded: Hello.\nBut ird and ปี   ird   ด\nHey how are you doing';
const CODEGEN_IDS = [
  40, 373, 4642, 287, 10190, 830, 11, 290, 428, 318, 27807, 2634, 13, 198, 37955, 162, 112, 119, 21410, 40367,
  253, 164, 108, 249, 42468, 198, 17250, 50286, 15496, 198, 17250, 50285, 15496, 628, 220, 198, 50286, 198,
  18435, 198, 27, 82, 29, 198, 5303, 27, 82, 29, 8117, 198, 464, 1708, 4731, 815, 307, 6105, 30240, 25, 18435,
  13, 198, 1537, 220, 1447, 290, 220, 19567, 249, 19567, 113, 50285, 1447, 50285, 19567, 242, 198, 10814, 703,
  389, 345, 1804,
];

describe('Tokenizer (native, CodeGen vocabulary)', () => {
  let tokenizer: Tokenizer;

  before(async () => {
    const path = nextPath();
    await writeVocabGguf(path);
    tokenizer = await Tokenizer.fromGguf(path);
  });

  it('has all 51,200 rows of the embedding', () => {
    assert.equal(tokenizer.vocabSize, 51200);
  });

  it("tokenizes moondream1's prompt parts as the spec lists them", () => {
    assert.deepEqual(tokenizer.tokenize('<image>'), [27, 9060, 29]);
    assert.deepEqual(tokenizer.tokenize('</image>'), [3556, 9060, 29]);
    assert.deepEqual(tokenizer.tokenize('<END>'), [27, 10619, 29]);
    assert.deepEqual(tokenizer.tokenize('</image>\n\nQuestion: What is the title of this book?\n\nAnswer: '),
      [3556, 9060, 29, 198, 198, 24361, 25, 1867, 318, 262, 3670, 286, 428, 1492, 30, 198, 198, 33706, 25, 220]);
    assert.deepEqual(tokenizer.tokenize('</image>\n\nQuestion: Describe this image.\n\nAnswer: '),
      [3556, 9060, 29, 198, 198, 24361, 25, 39373, 4892, 428, 2939, 13, 198, 198, 33706, 25, 220]);
  });

  it("reproduces transformers' CodeGen integration vectors", () => {
    const plain = tokenizer.tokenize(`This is a test\n${CODEGEN_TEXT}`);
    const withEmoji = tokenizer.tokenize(`This is a test 😊\n${CODEGEN_TEXT}`);
    assert.deepEqual(plain, [1212, 318, 257, 1332, 198, ...CODEGEN_IDS]);
    assert.deepEqual(withEmoji, [1212, 318, 257, 1332, 30325, 232, 198, ...CODEGEN_IDS]);
    assert.equal(plain.length, 86);
    assert.equal(withEmoji.length, 88);
  });

  it('splits out whitespace runs and <|endoftext|> before BPE, leftmost-longest', () => {
    assert.deepEqual(tokenizer.tokenize('a  b'), [64, 50286, 65]);
    assert.deepEqual(tokenizer.tokenize('def f():\n    return 1\n'), [4299, 277, 33529, 198, 50284, 7783, 352, 198]);
    assert.deepEqual(tokenizer.tokenize(' '.repeat(40)), [50257, 50279]);
    assert.deepEqual(tokenizer.tokenize(' '.repeat(32)), [50257, 220]);
    assert.deepEqual(tokenizer.tokenize('\t'.repeat(12)), [50287, 50293]);
    assert.deepEqual(tokenizer.tokenize(' \t'), [220, 197]);
    assert.deepEqual(tokenizer.tokenize('x<|endoftext|>y'), [87, 50256, 88]);
    assert.deepEqual(tokenizer.tokenize('<|endoftext|><|endoftext|>'), [50256, 50256]);
    assert.deepEqual(tokenizer.tokenize(''), []);
  });

  it('treats U+0085 as whitespace and U+FEFF as not, like HF tokenizers in Rust', () => {
    // Ids from HF tokenizers 0.23.2 (Rust, Oniguruma's \s = Unicode White_Space). The JavaScript
    // oracle's \s differs on these two code points, so they are pinned here instead.
    assert.deepEqual(tokenizer.tokenize('a \u0085b'), [64, 220, 126, 227, 65]);
    assert.deepEqual(tokenizer.tokenize(' \ufeffa'), [27332, 119, 123, 64]);
  });

  it('tokenizes lone surrogates as U+FFFD, as HF sees them', () => {
    const replacement = tokenizer.tokenize('\ufffd');
    assert.deepEqual(tokenizer.tokenize('\ud800'), replacement);
    assert.deepEqual(tokenizer.tokenize('a\udc00b'), [64, ...replacement, 65]);
    const hf = new HfTokenizer(codegenTokenizerJson(), {});
    assert.deepEqual(tokenizer.tokenize('x\ud83d y'), hf.encode('x\ud83d y', { add_special_tokens: false }).ids);
    assert.equal(tokenizer.detokenize(tokenizer.tokenize('a\ud800b')), 'a\ufffdb');
  });

  it('decodes added tokens literally, skips control tokens on request, and gives fillers no text', () => {
    assert.equal(tokenizer.detokenize([17250, 50286, 15496]), 'Hi  Hello');
    assert.equal(tokenizer.detokenize([50287, 50256, 50294]), '\t'.repeat(9) + '<|endoftext|>\t\t');
    assert.equal(tokenizer.detokenize([50256, 15496, 50256], { skipSpecialTokens: true }), 'Hello');
    assert.equal(tokenizer.detokenize([50295, 15496, 51199]), 'Hello');
    assert.equal(tokenizer.detokenize([]), '');
  });

  it('turns bytes that are not UTF-8 into U+FFFD, one per maximal invalid subsequence', () => {
    // 😊 is F0 9F 98 8A: "ðŁĺ" (47249) holds the first three bytes, "Ĭ" (232) the last.
    const [a, b] = tokenizer.tokenize('😊');
    assert.deepEqual([a, b], [47249, 232]);
    assert.equal(tokenizer.detokenize([a!, b!]), '😊');
    assert.equal(tokenizer.detokenize([a!]), '\ufffd');
    assert.equal(tokenizer.detokenize([a!, 15496]), '\ufffdHello');
    // A stray continuation byte, then a start cut short by the end: two subsequences.
    assert.equal(tokenizer.detokenize([b!, a!]), '\ufffd\ufffd');
  });

  it('streams whole characters: a split character appears once, with the token that ends it', () => {
    const ids = tokenizer.tokenize('😊 is 世界');
    const pieces = tokenizer.detokenizePieces(ids);
    assert.equal(pieces.join(''), '😊 is 世界');
    assert.deepEqual(pieces, ['', '😊', ' is', ' ', '', '世', '', '界']);
    const [a] = ids;
    assert.deepEqual(tokenizer.detokenizePieces([15496, a!]), ['Hello', '\ufffd']);
    assert.deepEqual(tokenizer.detokenizePieces([50256, 15496], { skipSpecialTokens: true }), ['', 'Hello']);
  });

  it('checks its arguments', () => {
    const invalid = (message: RegExp) => ({ name: 'MoondreamError', code: 'ERR_INVALID_ARGUMENT', message });
    assert.throws(() => tokenizer.tokenize(5 as unknown as string), invalid(/^Expected a string for text but received 5$/));
    assert.throws(() => tokenizer.detokenize('12' as unknown as number[]), invalid(/^Expected an array of token ids for ids but received "12"$/));
    assert.throws(() => tokenizer.detokenize([1, 2.5]), invalid(/^Expected an integer token id from 0 to 51199 for ids\[1\] but received 2.5$/));
    assert.throws(() => tokenizer.detokenize([-1]), invalid(/for ids\[0\] but received -1$/));
    assert.throws(() => tokenizer.detokenize([51200]), invalid(/for ids\[0\] but received 51200$/));
    assert.throws(() => tokenizer.detokenize([Number.NaN]), invalid(/received NaN$/));
    assert.throws(() => tokenizer.detokenizePieces(['1'] as unknown as number[]), invalid(/received "1"$/));
    assert.throws(() => tokenizer.detokenize([1], { skipSpecialTokens: 1 as unknown as boolean }),
      invalid(/^Expected a boolean for options.skipSpecialTokens but received 1$/));
  });

  it('refuses bad paths and missing files', async () => {
    await assert.rejects(Tokenizer.fromGguf(''), { code: 'ERR_INVALID_ARGUMENT' });
    await assert.rejects(Tokenizer.fromGguf(3 as unknown as string), { code: 'ERR_INVALID_ARGUMENT' });
    await assert.rejects(Tokenizer.fromGguf(join(dir, 'missing.gguf')), { code: 'ERR_IO' });
    const notGguf = join(dir, 'not.gguf');
    writeFileSync(notGguf, 'this is not a GGUF file at all');
    await assert.rejects(Tokenizer.fromGguf(notGguf), { code: 'ERR_MODEL_FORMAT', message: /magic/ });
  });

  it('throws ERR_DISPOSED after dispose(), which may be called twice', async () => {
    const path = nextPath();
    await writeVocabGguf(path);
    const own = await Tokenizer.fromGguf(path);
    assert.deepEqual(own.tokenize('Hello'), [15496]);
    own.dispose();
    own.dispose();
    assert.throws(() => own.tokenize('Hello'), (error: unknown) => error instanceof MoondreamError && error.code === 'ERR_DISPOSED');
    assert.throws(() => own.detokenize([1]), { code: 'ERR_DISPOSED' });
    assert.equal(own.vocabSize, 51200);
  });
});

describe('Tokenizer.fromGguf on broken vocabularies', () => {
  // Each case edits the good metadata; every one must reject with ERR_MODEL_FORMAT and a message
  // naming the key, and none may abort the process.
  type Edit = (entries: GgufMetadataEntry[]) => GgufMetadataEntry[];
  const without = (key: string): Edit => (entries) => entries.filter((e) => e.key !== key);
  const replace = (key: string, entry: GgufValue): Edit =>
    (entries) => entries.map((e) => (e.key === key ? ({ ...entry, key } as GgufMetadataEntry) : e));
  const editArray = (key: string, change: (values: unknown[]) => unknown[]): Edit =>
    (entries) => entries.map((e) => (e.key === key && e.type === 'array' ? ({ ...e, value: change([...e.value]) } as GgufMetadataEntry) : e));

  const cases: [string, Edit, RegExp][] = [
    ['no tokens', without('tokenizer.ggml.tokens'), /tokenizer\.ggml\.tokens is missing/],
    ['tokens of the wrong type', replace('tokenizer.ggml.tokens', { type: 'array', itemType: 'int32', value: [1, 2] }),
      /tokenizer\.ggml\.tokens must be an array of string but is an array of int32/],
    ['tokens as a plain string', replace('tokenizer.ggml.tokens', { type: 'string', value: 'a' }),
      /tokenizer\.ggml\.tokens must be an array of string but is a string/],
    ['no token types', without('tokenizer.ggml.token_type'), /tokenizer\.ggml\.token_type is missing/],
    ['token types as uint32', replace('tokenizer.ggml.token_type', { type: 'array', itemType: 'uint32', value: [1] }),
      /tokenizer\.ggml\.token_type must be an array of int32 but is an array of uint32/],
    ['fewer token types than tokens', editArray('tokenizer.ggml.token_type', (v) => v.slice(1)),
      /tokenizer\.ggml\.token_type has 51199 entries but tokenizer\.ggml\.tokens has 51200/],
    ['an unknown token type', editArray('tokenizer.ggml.token_type', (v) => { v[7] = 9; return v; }),
      /tokenizer\.ggml\.token_type\[7\] is 9/],
    ['a merge of an unknown token', editArray('tokenizer.ggml.merges', (v) => [...v, 'Ġ notatoken']),
      /tokenizer\.ggml\.merges\[50000\] "\\xc4\\xa0 notatoken" uses "notatoken", which is not in tokenizer\.ggml\.tokens/],
    ['a merge whose result is unknown', editArray('tokenizer.ggml.merges', (v) => [...v, 'Hello Hello']),
      /tokenizer\.ggml\.merges\[50000\] "Hello Hello" makes "HelloHello", which is not in/],
    ['a merge that is not a pair', editArray('tokenizer.ggml.merges', (v) => { v[3] = 'abc'; return v; }),
      /tokenizer\.ggml\.merges\[3\] "abc" is not two tokens separated by one space/],
    ['no merges', without('tokenizer.ggml.merges'), /tokenizer\.ggml\.merges is missing/],
    ['merges as int32', replace('tokenizer.ggml.merges', { type: 'array', itemType: 'int32', value: [] }),
      /tokenizer\.ggml\.merges must be an array of string/],
    ['another tokenizer model', replace('tokenizer.ggml.model', { type: 'string', value: 'llama' }),
      /tokenizer\.ggml\.model is "llama"; only "gpt2"/],
    ['no tokenizer model', without('tokenizer.ggml.model'), /tokenizer\.ggml\.model is missing/],
    ['another pre-tokenizer', replace('tokenizer.ggml.pre', { type: 'string', value: 'llama-bpe' }),
      /tokenizer\.ggml\.pre is "llama-bpe"/],
    ['a BOS id outside the vocabulary', replace('tokenizer.ggml.bos_token_id', { type: 'uint32', value: 51200 }),
      /tokenizer\.ggml\.bos_token_id is 51200, outside the 51200 tokens/],
    ['an EOS id of the wrong type', replace('tokenizer.ggml.eos_token_id', { type: 'int32', value: 50256 }),
      /tokenizer\.ggml\.eos_token_id must be a uint32 but is a int32/],
    ['no EOS id', without('tokenizer.ggml.eos_token_id'), /tokenizer\.ggml\.eos_token_id is missing/],
    ['a missing byte token', editArray('tokenizer.ggml.tokens', (v) => { v[188] = 'NOT-A-BYTE'; return v; }),
      /tokenizer\.ggml\.tokens has no token for byte 0x00/],
  ];

  for (const [name, edit, message] of cases) {
    it(`refuses ${name}`, async () => {
      const path = nextPath();
      await writeVocabGguf(path, edit(codegenVocabMetadata()));
      await assert.rejects(Tokenizer.fromGguf(path), (error: unknown) => {
        assert.ok(error instanceof MoondreamError, String(error));
        assert.equal(error.code, 'ERR_MODEL_FORMAT');
        assert.match(error.message, message);
        return true;
      });
    });
  }

  it('accepts a file without tokenizer.ggml.pre (older conversions)', async () => {
    const path = nextPath();
    await writeVocabGguf(path, without('tokenizer.ggml.pre')(codegenVocabMetadata()));
    const tokenizer = await Tokenizer.fromGguf(path);
    assert.deepEqual(tokenizer.tokenize('<END>'), [27, 10619, 29]);
    tokenizer.dispose();
  });
});
