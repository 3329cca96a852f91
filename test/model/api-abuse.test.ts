// The public API under abuse: wrong argument types, many concurrent questions, abort storms, use
// after dispose, and garbage collection while native work runs. Typed errors only, no crashes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Moondream, type EncodedImage } from '../../src/index.js';
import { tinyPair } from '../helpers/tiny-model.js';

const IMAGE = fileURLToPath(new URL('../../../test/fixtures/images/photo_320x240_q90.jpg', import.meta.url));
let md: Moondream;
let image: EncodedImage;
let files: { text: string; mmproj: string };

before(async () => {
  const pair = await tinyPair('q4_0', 'f16');
  files = { text: pair.textPath, mmproj: pair.mmprojPath };
  md = await Moondream.load(files, { threads: 2 });
  image = await md.encodeImage(IMAGE);
});
after(() => md.dispose());

describe('wrong arguments are typed errors', () => {
  const invalid = { code: 'ERR_INVALID_ARGUMENT' };
  it('load', async () => {
    await assert.rejects(Moondream.load(42 as unknown as string), invalid);
    await assert.rejects(Moondream.load(files, { threads: -1 }), invalid);
    await assert.rejects(Moondream.load(files, { threads: Number.NaN }), invalid);
    await assert.rejects(Moondream.load(files, { kvCacheType: 'q4' as 'f16' }), invalid);
    await assert.rejects(Moondream.load({ text: '' }), invalid);
  });

  it('encode, answer, evaluate, generate', async () => {
    await assert.rejects(md.encodeImage(123 as unknown as string), { code: /ERR_INVALID_ARGUMENT|ERR_IMAGE_DECODE/ });
    await assert.rejects(md.answerQuestion(image, null as unknown as string), invalid);
    await assert.rejects(md.answerQuestion(image, 'q', { maxTokens: 1.5 }), invalid);
    await assert.rejects(md.answerQuestion(image, 'q', { topP: 0 }), invalid);
    await assert.rejects(md.answerQuestion(image, 'q', { onToken: 'x' as unknown as () => void }), invalid);
    await assert.rejects(md.answerQuestion(image, 'q', { history: [{ question: 1 }] as unknown as [] }), invalid);
    await assert.rejects(md.evaluate([1.5]), invalid);
    await assert.rejects(md.evaluate([-1]), invalid);
    await assert.rejects(md.evaluate([60000]), invalid);
    await assert.rejects(md.generate('abc' as unknown as number[]), invalid);
    await assert.rejects(md.evaluate([1], { signal: 'no' as unknown as AbortSignal }), invalid);
  });

  it('a 10,000-character question overflows the context cleanly', async () => {
    await assert.rejects(md.answerQuestion(image, 'x'.repeat(10_000)), { code: 'ERR_CONTEXT_OVERFLOW' });
  });
});

describe('load', () => {
  it('50 concurrent questions on one model all complete with their own answers', async () => {
    const questions = Array.from({ length: 50 }, (_, i) => `Is it ${i}?`);
    const answers = await Promise.all(questions.map((q) => md.answerQuestion(image, q, { maxTokens: 4 })));
    for (const i of [0, 17, 49]) assert.equal(answers[i], await md.answerQuestion(image, questions[i]!, { maxTokens: 4 }));
  });

  it('an abort storm aborts calls with ERR_ABORTED, finishes the others correctly, and leaves the model answering correctly', async (t) => {
    const baseline = await md.answerQuestion(image, 'Storm?', { maxTokens: 16 });
    // Calls run one at a time, so most of the 30 wait longer than their 0-6 ms timeout: those are
    // aborted while queued, the running one while it decodes. Whatever ran to the end must be whole.
    const outcomes = await Promise.allSettled(Array.from({ length: 30 }, (_, i) =>
      md.answerQuestion(image, 'Storm?', { maxTokens: 200, signal: AbortSignal.timeout(i % 7) })));
    const rejected = outcomes.filter((o) => o.status === 'rejected');
    t.diagnostic(`${rejected.length} of ${outcomes.length} aborted`);
    assert.ok(rejected.length > 0, 'no call of the storm was aborted, so the storm tested nothing');
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') assert.equal((outcome.reason as { code?: string }).code, 'ERR_ABORTED');
    }
    const finished = outcomes.filter((o) => o.status === 'fulfilled').map((o) => o.value);
    if (finished.length > 0) {
      const complete = await md.answerQuestion(image, 'Storm?', { maxTokens: 200 });
      for (const value of finished) assert.equal(value, complete);
    }
    assert.equal(await md.answerQuestion(image, 'Storm?', { maxTokens: 16 }), baseline);
  });
});

describe('lifetime', () => {
  it('everything after dispose is ERR_DISPOSED, twice is fine', async () => {
    const other = await Moondream.load(files, { threads: 2 });
    const otherImage = await other.encodeImage(IMAGE);
    other.dispose();
    other.dispose();
    await assert.rejects(other.encodeImage(IMAGE), { code: 'ERR_DISPOSED' });
    await assert.rejects(other.answerQuestion(otherImage, 'q'), { code: 'ERR_DISPOSED' });
    await assert.rejects(other.generate([1]), { code: 'ERR_DISPOSED' });
  });

  it('dispose during encodeImage ends it with ERR_ABORTED or a finished image, never a crash', async () => {
    const other = await Moondream.load(files, { threads: 2 });
    const pending = other.encodeImage(IMAGE);
    setImmediate(() => other.dispose());
    const outcome = await pending.then(() => 'encoded', (error: { code?: string }) => error.code ?? 'no code');
    assert.ok(['encoded', 'ERR_ABORTED', 'ERR_DISPOSED'].includes(outcome), String(outcome));
    await assert.rejects(other.encodeImage(IMAGE), { code: 'ERR_DISPOSED' });
  });

  it('garbage collection of an unreferenced model and image while work runs is safe', () => {
    const child = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(new URL('../helpers/gc-child.js', import.meta.url)),
      files.text, files.mmproj, IMAGE], { encoding: 'utf8', timeout: 300_000 });  // a hang guard: 40 s seen on a loaded 2-core machine
    assert.equal(child.status, 0, child.stderr);
    assert.equal((JSON.parse(child.stdout.trim().split('\n').pop()!) as { ok: boolean }).ok, true);
  });
});
