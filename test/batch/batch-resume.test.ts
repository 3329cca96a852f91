// `moondream-ggml batch` on 300 generated images in nested folders with corrupt files, a duplicate
// and a link loop: killed with SIGKILL halfway and resumed, the output ends with exactly one valid
// line per (file, question), and the answers are answerQuestion's for the same images.
import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { before, describe, it } from 'node:test';
import { isErrorRecord, type BatchAnswerRecord, type BatchRecord } from '../../src/batch/records.js';
import { Moondream } from '../../src/index.js';
import { countLines, readJsonl, runCli, startCli, waitFor } from '../helpers/batch-cli.js';
import { makeImageTree, type ImageTree } from '../helpers/batch-images.js';
import { tempDir } from '../helpers/temp-dir.js';
import { tinyPair } from '../helpers/tiny-model.js';

const QUESTIONS = ['What is in this picture?', 'What colour is it?'];
const MAX_TOKENS = 6;
const root = tempDir('moondream-batch-resume-');
let tree: ImageTree;
let modelDir: string;

before(async () => {
  const pair = await tinyPair('q8_0', 'f16');
  modelDir = dirname(pair.textPath);
  tree = await makeImageTree(join(root, 'images'), 300);
});

function batchArgs(out: string, ...extra: string[]): string[] {
  return ['batch', tree.root, ...QUESTIONS.flatMap((q) => ['--question', q]), '--out', out,
    '--model', modelDir, '--threads', '1', '--max-tokens', String(MAX_TOKENS), ...extra];
}

const key = (r: BatchRecord) => `${r.path}\u0000${r.question}`;

describe('batch: killed and resumed', () => {
  const out = join(root, 'results.jsonl');
  let records: BatchRecord[];

  before(async () => {
    const files = tree.images.length + tree.broken.length;
    const first = startCli(batchArgs(out));
    await waitFor(() => countLines(out) >= files, 600_000, 'half of the lines');
    first.child.kill('SIGKILL');
    const { signal } = await first.exited;
    assert.equal(signal, 'SIGKILL');
    const partial = countLines(out);
    assert.ok(partial < files * QUESTIONS.length, `killed after ${partial} lines, before the end`);
    // A crash in the middle of a write would leave a partial last line: the resume must cut it off.
    appendFileSync(out, '{"path":"half a li');
    const resumed = await runCli([...batchArgs(out), '--json']);
    assert.equal(resumed.code, 0, resumed.stderr);
    const summary = JSON.parse(resumed.stdout) as { images: number; answered: number; failed: number; skipped: number; interrupted: boolean };
    assert.equal(summary.images, files);
    assert.equal(summary.skipped, partial);
    assert.equal(summary.answered + summary.failed + summary.skipped, files * QUESTIONS.length);
    assert.equal(summary.interrupted, false);
    records = readJsonl(out);
  });

  it('holds exactly one valid line per (file, question)', () => {
    const expected = [...tree.images, ...tree.broken.map((b) => b.path)].flatMap((path) => QUESTIONS.map((question) => `${path}\u0000${question}`));
    assert.equal(records.length, expected.length);
    assert.deepEqual(records.map(key).sort(), expected.sort());
  });

  it('records corrupt, empty, non-image and dangling files as errors with their codes', () => {
    for (const broken of tree.broken) {
      const lines = records.filter((r) => r.path === broken.path);
      assert.equal(lines.length, QUESTIONS.length);
      for (const line of lines) {
        assert.ok(isErrorRecord(line), `${broken.path} must be an error`);
        assert.equal(line.error.code, broken.code, line.error.message);
        assert.equal(line.sha256 === undefined, broken.code === 'ERR_IO');
      }
    }
    assert.equal(records.filter(isErrorRecord).length, tree.broken.length * QUESTIONS.length);
  });

  it('answers the duplicate once and reports it under both paths', () => {
    for (const question of QUESTIONS) {
      const a = records.find((r) => r.path === tree.duplicate.of && r.question === question) as BatchAnswerRecord;
      const b = records.find((r) => r.path === tree.duplicate.path && r.question === question) as BatchAnswerRecord;
      assert.equal(a.sha256, b.sha256);
      assert.equal(a.answer, b.answer);
      const [original, copy] = a.duplicateOf === undefined ? [a, b] : [b, a];
      assert.equal(copy.duplicateOf, original.path);
      assert.deepEqual(copy.timings, {});
      assert.ok('prefillMs' in original.timings);
    }
  });

  it('asks the second question on the image prefix the first one prefilled', () => {
    const seconds = records.filter((r): r is BatchAnswerRecord => !isErrorRecord(r) && r.question === QUESTIONS[1] && r.duplicateOf === undefined);
    assert.ok(seconds.length > 100);
    // Each image's second question ran right after its first one, unless the kill fell between them.
    const reused = seconds.filter((r) => 'reusedPositions' in r.timings && r.timings.reusedPositions > 700 && r.timings.encodeMs === 0);
    assert.ok(reused.length >= seconds.length - 1, `${reused.length} of ${seconds.length} reused the prefix`);
  });

  it("every answer equals answerQuestion's for the same image (a sample of 24 and the duplicate)", async () => {
    const byKey = new Map(records.map((r) => [key(r), r]));
    const sample = tree.images.filter((_, i) => i % 13 === 5).slice(0, 24);
    sample.push(tree.duplicate.path);
    const pair = await tinyPair('q8_0', 'f16');
    const md = await Moondream.load({ text: pair.textPath, mmproj: pair.mmprojPath }, { threads: 1 });
    const answers = new Set<string>();
    try {
      for (const path of sample) {
        const image = await md.encodeImage(path);
        for (const question of QUESTIONS) {
          const expected = await md.answerQuestion(image, question, { maxTokens: MAX_TOKENS });
          const line = byKey.get(`${path}\u0000${question}`) as BatchAnswerRecord;
          assert.equal(line.answer, expected, `${path}: ${question}`);
          answers.add(expected);
        }
      }
    } finally {
      md.dispose();
    }
    assert.ok(answers.size >= 3, `the sample's answers must differ for the comparison to mean anything (${answers.size} distinct)`);
  });
});

describe('batch: Ctrl-C', () => {
  it('stops within a second and leaves only whole lines', async () => {
    const out = join(root, 'interrupted.jsonl');
    const run = startCli(batchArgs(out, '--json'));
    await waitFor(() => countLines(out) >= 4, 300_000, 'the first lines');
    const sent = Date.now();
    run.child.kill('SIGINT');
    const { code } = await run.exited;
    const stoppedMs = Date.now() - sent;
    assert.equal(code, 130, run.stderr());
    assert.ok(stoppedMs < 1000, `stopped ${stoppedMs} ms after Ctrl-C`);
    const lines = readJsonl(out);
    const summary = JSON.parse(run.stdout()) as { interrupted: boolean; answered: number; failed: number };
    assert.equal(summary.interrupted, true);
    assert.equal(summary.answered + summary.failed, lines.length);
  });
});

