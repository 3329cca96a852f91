// The text GGUF the converter writes carries a vocabulary the native Tokenizer accepts, and that
// vocabulary tokenizes moondream1's prompt as the spec lists it: the converter and the tokenizer
// agree on the tokenizer.ggml.* keys.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Tokenizer } from '../../src/index.js';
import { tinyPair } from '../helpers/tiny-model.js';

describe('Tokenizer on a converted text GGUF', () => {
  it("loads the converter's vocabulary and tokenizes moondream1's prompt", async () => {
    const pair = await tinyPair('f16');
    const tokenizer = await Tokenizer.fromGguf(pair.textPath);
    try {
      assert.equal(tokenizer.vocabSize, 51200);
      assert.deepEqual(tokenizer.tokenize('<image>'), [27, 9060, 29]);
      assert.deepEqual(tokenizer.tokenize('</image>\n\nQuestion: What is the title of this book?\n\nAnswer: '),
        [3556, 9060, 29, 198, 198, 24361, 25, 1867, 318, 262, 3670, 286, 428, 1492, 30, 198, 198, 33706, 25, 220]);
      assert.equal(tokenizer.detokenize([50256, 27, 10619, 29], { skipSpecialTokens: true }), '<END>');
    } finally {
      tokenizer.dispose();
    }
  });
});
