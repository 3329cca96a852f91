// answerQuestion and friends on the tiny model: moondream1's prompt, streamed pieces that add up
// to the answer, prefix reuse that changes nothing but the work done, abort, overflow, queueing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Moondream, type EncodedImage } from '../../src/index.js';
import { buildPrompt } from '../../src/prompt.js';
import { tinyPair } from '../helpers/tiny-model.js';

const IMAGE = new URL('../../../test/fixtures/images/smooth_600x450.png', import.meta.url).pathname;
const QUESTION = 'What is the title of this book?';

let md: Moondream;
let image: EncodedImage;

before(async () => {
  const pair = await tinyPair('q8_0', 'f16');
  md = await Moondream.load({ text: pair.textPath, mmproj: pair.mmprojPath }, { threads: 2 });
  image = await md.encodeImage(IMAGE);
});
after(() => md.dispose());

describe('the moondream1 prompt', () => {
  it('is BOS + <image> tokens, then the spec §7.2 tail, tokenized as two segments', () => {
    const { prefix, suffix } = buildPrompt(md.info.prompt, (t) => md.tokenize(t), QUESTION);
    assert.deepEqual(Array.from(prefix), [50256, 27, 9060, 29]);
    assert.deepEqual(Array.from(suffix), [3556, 9060, 29, 198, 198, 24361, 25, 1867, 318, 262, 3670, 286, 428, 1492, 30, 198, 198, 33706, 25, 220]);
  });

  it('puts history before the question in moondream1 format, braces in user text left alone', () => {
    const { suffix } = buildPrompt(md.info.prompt, (t) => md.tokenize(t), 'Is {question} here?', [{ question: 'A?', answer: 'B.' }]);
    assert.equal(md.detokenize(Array.from(suffix)), '</image>\n\nQuestion: A?\n\nAnswer: B.\n\nQuestion: Is {question} here?\n\nAnswer: ');
  });
});

describe('answering', () => {
  it('streams pieces that concatenate exactly to the answer, with 729 image rows in the prompt', async () => {
    const pieces: string[] = [];
    const answer = await md.answer(image, QUESTION, { maxTokens: 48, onToken: (p) => pieces.push(p) });
    assert.equal(pieces.join(''), answer.text);
    assert.ok(pieces.length > 1);
    assert.equal(answer.timings.promptPositions, 4 + 729 + 20);
    assert.equal(answer.text, answer.text.trim());
    assert.equal(answer.text, (await md.answerQuestion(image, QUESTION, { maxTokens: 48 })));
  });

  it('reuses the image prefix for a second question without changing the answer', async () => {
    const pair = await tinyPair('q8_0', 'f16');
    const fresh = await Moondream.load({ text: pair.textPath, mmproj: pair.mmprojPath }, { threads: 2 });
    try {
      const otherImage = await fresh.encodeImage(IMAGE);
      const cold = await fresh.answer(otherImage, 'Why?', { maxTokens: 24 });
      assert.equal(cold.timings.reusedPositions, 0);
      await md.answer(image, 'Something else first?', { maxTokens: 4 });
      const warm = await md.answer(image, 'Why?', { maxTokens: 24 });
      assert.equal(warm.timings.reusedPositions, 4 + 729);
      assert.deepEqual(warm.tokens, cold.tokens);
      assert.equal(warm.text, cold.text);
    } finally {
      fresh.dispose();
    }
  });

  it('keeps prefixes of several images (LRU) and switches between them correctly', async () => {
    const second = await md.encodeImage(new URL('../../../test/fixtures/images/text_640x200.png', import.meta.url).pathname);
    const a1 = await md.answer(image, 'A?', { maxTokens: 12 });
    const b1 = await md.answer(second, 'A?', { maxTokens: 12 });
    const a2 = await md.answer(image, 'A?', { maxTokens: 12 });
    assert.equal(a2.timings.reusedPositions, 733);
    assert.deepEqual(a2.tokens, a1.tokens);
    assert.notDeepEqual(b1.tokens, a1.tokens);
  });

  it('streamAnswer yields the same pieces; leaving the loop early stops generation', async () => {
    let text = '';
    for await (const piece of md.streamAnswer(image, QUESTION, { maxTokens: 48 })) text += piece;
    assert.equal(text, await md.answerQuestion(image, QUESTION, { maxTokens: 48 }));
    let count = 0;
    for await (const piece of md.streamAnswer(image, QUESTION, { maxTokens: 1200 })) {
      void piece;
      if (++count === 2) break;
    }
    // The model is free again at once.
    assert.equal(typeof (await md.answerQuestion(image, 'Ok?', { maxTokens: 2 })), 'string');
  });

  it('caption asks the profile question; chat carries history', async () => {
    assert.equal(await md.caption(image, { maxTokens: 16 }), await md.answerQuestion(image, 'Describe this image.', { maxTokens: 16 }));
    const chat = md.chat(image);
    const first = await chat.ask('One?', { maxTokens: 6 });
    const second = await chat.ask('Two?', { maxTokens: 6 });
    assert.deepEqual(chat.history, [{ question: 'One?', answer: first }, { question: 'Two?', answer: second }]);
    assert.equal(second, await md.answerQuestion(image, 'Two?', { maxTokens: 6, history: [{ question: 'One?', answer: first }] }));
  });
});

describe('end to end from a JPEG file', () => {
  it('decodes, encodes and streams an answer whose pieces add up to it', async () => {
    const jpeg = await md.encodeImage(new URL('../../../test/fixtures/images/photo_320x240_q90.jpg', import.meta.url).pathname);
    const pieces: string[] = [];
    const answer = await md.answerQuestion(jpeg, QUESTION, { maxTokens: 32, onToken: (p) => pieces.push(p) });
    assert.ok(pieces.length > 0);
    assert.equal(pieces.join(''), answer);
  });
});

describe('stop fragments never reach the stream', () => {
  const strip = ['END', '<'];
  const ids = (text: string) => md.tokenize(text);
  const cases: [string, () => number[], string][] = [
    ['a "<" stop token', () => [...ids(' The girl is holding a hamburger.'), 27], 'The girl is holding a hamburger.'],
    ['".<" merged, then END', () => [...ids(' It is red'), 29847, 10619], 'It is red.'],
    ['"<" then END as separate tokens', () => [...ids(' A cat'), 27, 10619], 'A cat'],
    ['trailing whitespace before the stop', () => [...ids(' Two dogs. '), 27], 'Two dogs.'],
    ['a ">" stop token stays, as in moondream1', () => [...ids(' x'), 29], 'x>'],
    ['nothing but a stop token', () => [27], ''],
  ];
  for (const [label, tokens, expected] of cases) {
    it(label, () => {
      const { pieces, answer } = md.tokenizer.answerPieces(tokens(), strip);
      assert.equal(answer, expected);
      assert.equal(pieces.join(''), answer);
      if (!expected.includes('<')) assert.ok(pieces.every((p) => !p.includes('<') && !p.includes('END')), JSON.stringify(pieces));
    });
  }
});

describe('limits, abort and concurrency', () => {
  it('dispose during generation stops it safely; the model then refuses work', async () => {
    const pair = await tinyPair('q8_0', 'f16');
    const doomed = await Moondream.load({ text: pair.textPath, mmproj: pair.mmprojPath }, { threads: 2 });
    const doomedImage = await doomed.encodeImage(IMAGE);
    let disposedAt = 0;
    const pending = doomed.answerQuestion(doomedImage, QUESTION, {
      maxTokens: 1200,
      onToken: () => {
        if (!disposedAt) {
          disposedAt = performance.now();
          doomed.dispose();
        }
      },
    });
    await assert.rejects(pending, { code: 'ERR_DISPOSED' });
    assert.ok(performance.now() - disposedAt < 200);
    await assert.rejects(doomed.answerQuestion(doomedImage, QUESTION), { code: 'ERR_DISPOSED' });
    assert.throws(() => doomed.tokenize('x'), { code: 'ERR_DISPOSED' });
  });

  it('a question too long for the context is ERR_CONTEXT_OVERFLOW before any compute', async () => {
    await assert.rejects(md.answerQuestion(image, 'why '.repeat(2500)), { code: 'ERR_CONTEXT_OVERFLOW', message: /exceed the context of 2048/ });
  });

  it('abort during decoding returns ERR_ABORTED within 200 ms and leaves the model usable', async () => {
    const controller = new AbortController();
    let abortedAt = 0;
    const pending = md.answerQuestion(image, QUESTION, {
      maxTokens: 1200,
      signal: controller.signal,
      onToken: () => {
        if (!abortedAt) {
          abortedAt = performance.now();
          controller.abort();
        }
      },
    });
    await assert.rejects(pending, { code: 'ERR_ABORTED' });
    const latency = performance.now() - abortedAt;
    assert.ok(latency < 200, `abort took ${latency.toFixed(0)} ms`);
    assert.equal(typeof (await md.answerQuestion(image, QUESTION, { maxTokens: 4 })), 'string');
  });

  it('concurrent questions on one model all complete, each with its own correct answer', async () => {
    const questions = Array.from({ length: 12 }, (_, i) => `Question number ${i}?`);
    const expected: string[] = [];
    for (const q of questions) expected.push(await md.answerQuestion(image, q, { maxTokens: 8 }));
    const together = await Promise.all(questions.map((q) => md.answerQuestion(image, q, { maxTokens: 8 })));
    assert.deepEqual(together, expected);
  });

  it('rejects images of another model and bad options with typed errors', async () => {
    await assert.rejects(md.answerQuestion({} as EncodedImage, QUESTION), { code: 'ERR_INVALID_ARGUMENT' });
    await assert.rejects(md.answerQuestion(image, 42 as unknown as string), { code: 'ERR_INVALID_ARGUMENT', message: /Expected a string for question/ });
    await assert.rejects(md.answerQuestion(image, QUESTION, { temperature: Number.NaN }), { code: 'ERR_INVALID_ARGUMENT' });
    await assert.rejects(md.answerQuestion(image, QUESTION, { maxTokens: -1 }), { code: 'ERR_INVALID_ARGUMENT' });
  });
});
