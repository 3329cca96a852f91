// Many conversations on one model: sessions share the weights, the tokenizer, the vision encoder
// and the thread budget, and each gives exactly the answers it would give alone.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { Moondream, type EncodedImage, type MoondreamSession } from '../../src/index.js';
import { tinyPair } from '../helpers/tiny-model.js';

const IMAGES = ['smooth_600x450.png', 'cmyk_320x240.jpg'].map((name) => new URL(`../../../test/fixtures/images/${name}`, import.meta.url).pathname);
const QUESTIONS = ['What is in this picture?', 'What colour is the sky?'];
const MAX_TOKENS = 48;

let md: Moondream;
let images: EncodedImage[];
/** Each (image, question)'s answer tokens on a session of its own, one call at a time. */
let serial: number[][][];

function threadCount(): number {
  return readdirSync('/proc/self/task').length;
}

function rssBytes(): number {
  const pages = Number(readFileSync('/proc/self/statm', 'utf8').split(' ')[1]);
  return pages * 4096;
}

before(async () => {
  const pair = await tinyPair('q8_0', 'f16');
  md = await Moondream.load({ text: pair.textPath, mmproj: pair.mmprojPath }, { threads: 2 });
  images = [await md.encodeImage(IMAGES[0]!), await md.encodeImage(IMAGES[1]!)];
  serial = [];
  for (const image of images) {
    const alone = md.createSession();
    const answers: number[][] = [];
    for (const question of QUESTIONS) answers.push((await alone.answer(image, question, { maxTokens: MAX_TOKENS })).tokens);
    serial.push(answers);
    alone.dispose();
  }
});
after(() => md.dispose());

/** Asks every question about `image` on `session`, in order; returns the answers' tokens. */
async function askAll(session: MoondreamSession, image: EncodedImage): Promise<number[][]> {
  const answers: number[][] = [];
  for (const question of QUESTIONS) answers.push((await session.answer(image, question, { maxTokens: MAX_TOKENS })).tokens);
  return answers;
}

describe('two sessions at once', () => {
  it('answer about two images concurrently, each token for token its serial answer', async (t) => {
    assert.notDeepEqual(serial[0], serial[1], 'the two images must give different answers for the test to mean anything');
    const a = md.createSession();
    const b = md.createSession();
    try {
      const serialStart = performance.now();
      await askAll(a, images[0]!);
      await askAll(b, images[1]!);
      const serialMs = performance.now() - serialStart;

      const [fresh1, fresh2] = [md.createSession(), md.createSession()];
      const pairStart = performance.now();
      const [first, second] = await Promise.all([askAll(fresh1, images[0]!), askAll(fresh2, images[1]!)]);
      const pairMs = performance.now() - pairStart;
      fresh1.dispose();
      fresh2.dispose();
      assert.deepEqual(first, serial[0]);
      assert.deepEqual(second, serial[1]);
      t.diagnostic(`two sessions x ${QUESTIONS.length} questions: concurrently ${pairMs.toFixed(0)} ms, one after the other ${serialMs.toFixed(0)} ms`);
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  it('share the model thread budget: four busy sessions start no threads beyond one', async () => {
    const one = md.createSession();
    let busyOne = 0;
    await one.answer(images[0]!, QUESTIONS[0]!, { maxTokens: MAX_TOKENS, onPiece: () => { busyOne = Math.max(busyOne, threadCount()); } });
    const many = Array.from({ length: 4 }, () => md.createSession());
    let busyMany = 0;
    const answers = await Promise.all(many.map((s, i) => s.answer(images[i % 2]!, QUESTIONS[0]!, {
      maxTokens: MAX_TOKENS, onPiece: () => { busyMany = Math.max(busyMany, threadCount()); },
    })));
    answers.forEach((answer, i) => assert.deepEqual(answer.tokens, serial[i % 2]![0]));
    assert.ok(busyOne > 0 && busyMany > 0);
    assert.ok(busyMany <= busyOne, `threads with four sessions busy: ${busyMany}, with one: ${busyOne}`);
    assert.equal(md.info.threads, 2);
    for (const s of [one, ...many]) s.dispose();
  });

  it('a second session costs its KV cache and buffers, not another copy of the weights', async (t) => {
    const first = md.createSession();
    await first.answer(images[0]!, QUESTIONS[0]!, { maxTokens: MAX_TOKENS });
    const before = rssBytes();
    const second = md.createSession();
    const answer = await second.answer(images[1]!, QUESTIONS[0]!, { maxTokens: MAX_TOKENS });
    const grown = rssBytes() - before;
    assert.deepEqual(answer.tokens, serial[1]![0]);
    const info = second.info;
    assert.equal(info.contextSize, 2048);
    assert.ok(info.kvCacheBytes > 0 && info.computeBytes > 0);
    assert.equal(info.prefixCacheEntries, 0, 'the prefix in the KV cache is only copied out when displaced');
    assert.equal(info.totalBytes, info.kvCacheBytes + info.computeBytes + info.prefixCacheBytes);
    const weights = md.info.mappedBytes + md.info.repackedBytes;
    t.diagnostic(`second session: RSS +${(grown / 2 ** 20).toFixed(1)} MiB; session.info ${(info.totalBytes / 2 ** 20).toFixed(1)} MiB ` +
      `(KV ${(info.kvCacheBytes / 2 ** 20).toFixed(1)}, compute ${(info.computeBytes / 2 ** 20).toFixed(1)}); weights ${(weights / 2 ** 20).toFixed(1)} MiB`);
    assert.ok(grown < weights, `RSS grew by ${grown} bytes, the weights are ${weights}`);
    first.dispose();
    second.dispose();
  });
});

describe('images across sessions', () => {
  it('an image encoded through one session answers the same on another', async () => {
    const a = md.createSession();
    const b = md.createSession();
    const image = await a.encodeImage(IMAGES[1]!);
    assert.deepEqual((await b.answer(image, QUESTIONS[1]!, { maxTokens: MAX_TOKENS })).tokens, serial[1]![1]);
    a.dispose();
    b.dispose();
  });

  it('an image from another model is refused', async () => {
    const pair = await tinyPair('q8_0', 'f16');
    const other = await Moondream.load({ text: pair.textPath, mmproj: pair.mmprojPath }, { threads: 1 });
    try {
      const foreign = await other.encodeImage(IMAGES[0]!);
      const session = md.createSession();
      await assert.rejects(session.answerQuestion(foreign, 'q'), { code: 'ERR_INVALID_ARGUMENT', message: /made by this model/ });
      session.dispose();
    } finally {
      other.dispose();
    }
  });
});

describe('disposing sessions', () => {
  it('disposing a session mid-answer rejects that call with ERR_DISPOSED and leaves other sessions running', async () => {
    const doomed = md.createSession();
    const survivor = md.createSession();
    let pieces = 0;
    const pending = doomed.answer(images[0]!, QUESTIONS[0]!, {
      maxTokens: 1000,
      onPiece: () => { if (++pieces === 2) doomed.dispose(); },
    });
    const other = survivor.answer(images[1]!, QUESTIONS[1]!, { maxTokens: MAX_TOKENS });
    await assert.rejects(pending, { code: 'ERR_DISPOSED' });
    assert.deepEqual((await other).tokens, serial[1]![1]);
    assert.equal(doomed.disposed, true);
    assert.throws(() => doomed.info, { code: 'ERR_DISPOSED' });
    await assert.rejects(doomed.answerQuestion(images[0]!, 'q'), { code: 'ERR_DISPOSED' });
    assert.deepEqual((await survivor.answer(images[0]!, QUESTIONS[0]!, { maxTokens: MAX_TOKENS })).tokens, serial[0]![0]);
    survivor.dispose();
    survivor.dispose();
  });

  it('calls queued behind a disposed one are ERR_DISPOSED too', async () => {
    const session = md.createSession();
    const calls = [0, 1, 2].map(() => session.answerQuestion(images[0]!, QUESTIONS[0]!, { maxTokens: MAX_TOKENS }));
    session.dispose();
    for (const call of calls) await assert.rejects(call, { code: 'ERR_DISPOSED' });
  });

  it('disposing the model disposes its sessions', async () => {
    const pair = await tinyPair('q8_0', 'f16');
    const model = await Moondream.load({ text: pair.textPath, mmproj: pair.mmprojPath }, { threads: 1 });
    const image = await model.encodeImage(IMAGES[0]!);
    const session = model.createSession({ contextSize: 1024 });
    assert.equal(session.info.contextSize, 1024);
    model.dispose();
    assert.equal(session.disposed, true);
    await assert.rejects(session.answerQuestion(image, 'q'), { code: 'ERR_DISPOSED' });
    assert.throws(() => model.createSession(), { code: 'ERR_DISPOSED' });
  });

  it('session options are validated before anything is created', () => {
    assert.throws(() => md.createSession({ contextSize: 0 }), { code: 'ERR_INVALID_ARGUMENT', message: /options.contextSize/ });
    assert.throws(() => md.createSession({ kvCacheType: 'q8' as 'f16' }), { code: 'ERR_INVALID_ARGUMENT' });
    assert.throws(() => md.createSession({ contextSize: 4096 }), { code: 'ERR_INVALID_ARGUMENT', message: /context size/ });
  });
});
