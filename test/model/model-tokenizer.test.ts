// A loaded model tokenizes with the vocabulary of its own text GGUF, with or without the mmproj.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Moondream } from '../../src/index.js';
import { tinyPair } from '../helpers/tiny-model.js';

const PROMPT_TAIL = '</image>\n\nQuestion: What is the title of this book?\n\nAnswer: ';
const PROMPT_TAIL_IDS = [3556, 9060, 29, 198, 198, 24361, 25, 1867, 318, 262, 3670, 286, 428, 1492, 30, 198, 198, 33706, 25, 220];

describe('Moondream.tokenize / detokenize', () => {
  it('gives the spec §7.2 ids for the prompt tail, on the pair and on the text model alone', async () => {
    const pair = await tinyPair('q4_0');
    for (const files of [{ text: pair.textPath, mmproj: pair.mmprojPath }, { text: pair.textPath }]) {
      const md = await Moondream.load(files);
      try {
        assert.deepEqual(md.tokenize(PROMPT_TAIL), PROMPT_TAIL_IDS);
        assert.deepEqual(md.tokenize('<image>'), [27, 9060, 29]);
        assert.equal(md.detokenize(PROMPT_TAIL_IDS), PROMPT_TAIL);
        assert.equal(md.detokenize([50256, 15496], { skipSpecialTokens: true }), 'Hello');
      } finally {
        md.dispose();
      }
    }
  });

  it('throws ERR_DISPOSED after dispose', async () => {
    const md = await Moondream.load({ text: (await tinyPair('q4_0')).textPath });
    md.dispose();
    assert.throws(() => md.tokenize('x'), { code: 'ERR_DISPOSED' });
    assert.throws(() => md.info, { code: 'ERR_DISPOSED' });
    await assert.rejects(md.evaluate([1]), { code: 'ERR_DISPOSED' });
  });
});
