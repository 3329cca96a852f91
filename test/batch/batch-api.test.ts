// md.batch(): an async iterator of results over folders, globs and list files, with the same
// answers as answerQuestion, resume through the output file, and validated options.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isErrorRecord, type BatchAnswerRecord, type BatchRecord } from '../../src/batch/records.js';
import { Moondream, MoondreamError, type BatchProgress } from '../../src/index.js';
import { readJsonl } from '../helpers/batch-cli.js';
import { makeImageTree, type ImageTree } from '../helpers/batch-images.js';
import { tempDir } from '../helpers/temp-dir.js';
import { tinyPair } from '../helpers/tiny-model.js';

const QUESTION = 'What is in this picture?';
const MAX_TOKENS = 6;
const root = tempDir('moondream-batch-api-');
let md: Moondream;
let tree: ImageTree;
/** answerQuestion's answer for each image path, on a session of its own. */
const expected = new Map<string, string>();
let captionQuestion: string;

before(async () => {
  const pair = await tinyPair('q8_0', 'f16');
  md = await Moondream.load({ text: pair.textPath, mmproj: pair.mmprojPath }, { threads: 1 });
  captionQuestion = md.info.prompt.captionQuestion;
  tree = await makeImageTree(join(root, 'images'), 9, { seed: 5 });
  const session = md.createSession();
  for (const path of tree.images) {
    expected.set(path, await session.answerQuestion(await md.encodeImage(path), QUESTION, { maxTokens: MAX_TOKENS }));
  }
  session.dispose();
});
after(() => md.dispose());

async function collect(run: AsyncGenerator<BatchRecord, unknown>): Promise<{ records: BatchRecord[]; summary: unknown }> {
  const records: BatchRecord[] = [];
  let step = await run.next();
  while (!step.done) {
    records.push(step.value);
    step = await run.next();
  }
  return { records, summary: step.value };
}

describe('md.batch', () => {
  it("yields one result per (file, question), answers equal to answerQuestion's", async () => {
    const progress: BatchProgress[] = [];
    const { records, summary } = await collect(md.batch(tree.root, { questions: [QUESTION], maxTokens: MAX_TOKENS, onProgress: (p) => progress.push(p) }));
    assert.equal(records.length, tree.images.length + tree.broken.length);
    for (const path of tree.images) {
      const record = records.find((r) => r.path === path);
      assert.ok(record && !isErrorRecord(record), path);
      assert.equal(record.answer, expected.get(path), path);
      assert.equal(record.question, QUESTION);
    }
    assert.ok(new Set(expected.values()).size >= 2, 'the images must not all give one answer');
    assert.deepEqual(records.filter(isErrorRecord).map((r) => r.path).sort(), tree.broken.map((b) => b.path).sort());
    assert.deepEqual(summary, { ...(summary as object), images: records.length, answered: tree.images.length, failed: tree.broken.length, skipped: 0, interrupted: false });
    assert.equal(progress.at(-1)!.done, records.length);
    assert.equal(progress.at(-1)!.total, records.length);
  });

  it('takes globs, list files and several inputs; each file once', async () => {
    const list = join(root, 'list.txt');
    const listed = tree.images.slice(0, 3);
    writeFileSync(list, `# images\n${listed.map((p) => relative(root, p)).join('\n')}\n\n`);
    const glob = join(tree.root, '**', '*.png');
    const { records } = await collect(md.batch([list, glob, listed[0]!], { questions: [QUESTION], maxTokens: MAX_TOKENS }));
    const pngs = tree.images.filter((p) => p.endsWith('.png'));
    const want = [...new Set([...listed, ...pngs, join(tree.root, 'c', 'empty.png'), join(tree.root, 'a', 'x', 'dangling.png')])];
    assert.deepEqual(records.map((r) => r.path).sort(), want.sort());
    for (const r of records) if (!isErrorRecord(r)) assert.equal(r.answer, expected.get(r.path));
  });

  it('caption: true asks the caption question; several questions come in order', async () => {
    const { records } = await collect(md.batch(tree.images[1]!, { questions: [QUESTION], caption: true, maxTokens: MAX_TOKENS }));
    assert.deepEqual(records.map((r) => r.question), [QUESTION, captionQuestion]);
    const image = await md.encodeImage(tree.images[1]!);
    assert.equal((records[1] as BatchAnswerRecord).answer, await md.caption(image, { maxTokens: MAX_TOKENS }));
  });

  it('resumes from its output file, and starts over with resume: false', async () => {
    const out = join(root, 'api.jsonl');
    const first = md.batch(tree.root, { questions: [QUESTION], maxTokens: MAX_TOKENS, out });
    // Leave after three results: the file keeps them, whole.
    let taken = 0;
    for await (const _ of first) if (++taken === 3) break;
    assert.equal(readJsonl(out).length, 3);
    const { records, summary } = await collect(md.batch(tree.root, { questions: [QUESTION], maxTokens: MAX_TOKENS, out }));
    const total = tree.images.length + tree.broken.length;
    assert.equal(records.length, total - 3);
    assert.equal((summary as { skipped: number }).skipped, 3);
    assert.equal(readJsonl(out).length, total);
    const again = await collect(md.batch(tree.root, { questions: [QUESTION], maxTokens: MAX_TOKENS, out }));
    assert.equal(again.records.length, 0);
    const fresh = await collect(md.batch(tree.root, { questions: [QUESTION], maxTokens: MAX_TOKENS, out, resume: false }));
    assert.equal(fresh.records.length, total);
    assert.equal(readJsonl(out).length, total);
  });

  it('an aborted run throws ERR_ABORTED and keeps whole lines', async () => {
    const out = join(root, 'aborted.jsonl');
    const controller = new AbortController();
    const run = md.batch(tree.root, { questions: [QUESTION], maxTokens: MAX_TOKENS, out, signal: controller.signal });
    const first = await run.next();
    assert.equal(first.done, false);
    controller.abort();
    await assert.rejects(collect(run), (e: unknown) => e instanceof MoondreamError && e.code === 'ERR_ABORTED');
    assert.ok(readJsonl(out).length >= 1);
  });

  it('rejects bad inputs and options with ERR_INVALID_ARGUMENT', async () => {
    const bad = async (inputs: unknown, options: unknown, message: RegExp) => {
      await assert.rejects(async () => collect(md.batch(inputs as string, options as never)), (e: unknown) =>
        e instanceof MoondreamError && e.code === 'ERR_INVALID_ARGUMENT' && message.test(e.message));
    };
    await bad([], { questions: [QUESTION] }, /Expected a path, folder, glob or list file.* for inputs/);
    await bad(tree.root, {}, /Expected questions or caption: true for options/);
    await bad(tree.root, { questions: [''] }, /Expected a non-empty string for options\.questions\[0\] but received ""/);
    await bad(tree.root, { questions: [QUESTION], maxTokens: -1 }, /options\.maxTokens/);
    await assert.rejects(collect(md.batch(join(root, 'nowhere', '*.jpg'), { questions: [QUESTION] })), /matches no file/);
  });
});
