// The main job as a user runs it: `moondream-ggml ask <image> <question>` with no model yet pulls
// it (here from a local imitation of the hub), converts it, and streams the answer to stdout. The
// answers are held to test/helpers/reference-answer.ts's independent path on the pulled model.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { findPulledModel } from '../../src/hub.js';
import { MOONDREAM1_REPO } from '../../src/hub/repo-files.js';
import { Moondream } from '../../src/index.js';
import { checkpointFiles, startFakeHub, type FakeHub } from '../helpers/fake-hub.js';
import { referenceAnswer, type ReferenceAnswer } from '../helpers/reference-answer.js';
import { tempDir } from '../helpers/temp-dir.js';
import { tinyCheckpoint } from '../helpers/tiny-model.js';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const IMAGE = fileURLToPath(new URL('../../../test/fixtures/images/smooth_600x450.png', import.meta.url));
const REVISION = 'abcdef0123456789abcdef0123456789abcdef01';
const TOKEN = 'hf_cli_token';
const cache = tempDir('moondream-cli-cache-');
let hub: FakeHub;

function run(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], {
      env: { ...process.env, HF_ENDPOINT: hub.endpoint, HF_TOKEN: TOKEN, XDG_CACHE_HOME: cache, MOONDREAM_REVISION: REVISION },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

before(async () => {
  const dir = await tinyCheckpoint();
  hub = await startFakeHub({
    repo: MOONDREAM1_REPO,
    revisions: { [REVISION]: REVISION },
    token: TOKEN,
    files: checkpointFiles(dir),
  });
});
after(() => hub.close());

/** The independent path's answer on the model the CLI pulled into the cache. */
async function expectedAnswer(question: string, maxTokens: number): Promise<ReferenceAnswer> {
  const files = await findPulledModel({ cacheDir: join(cache, 'moondream-ggml'), revision: REVISION });
  assert.ok(files, 'the CLI left no pulled model in the cache');
  const md = await Moondream.load(files, { threads: 2 });
  try {
    return await referenceAnswer(md, await md.encodeImage(IMAGE), question, maxTokens);
  } finally {
    md.dispose();
  }
}

describe('moondream-ggml ask', () => {
  it('pulls the model on first use, then answers on stdout; the second run needs no network', async () => {
    // A question whose reference answer has no near tie on the pulled (q4_0) model: see reference-answer.ts.
    const first = await run(['ask', IMAGE, 'What is it?', '--max-tokens', '8', '--threads', '2']);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stderr, /pulling vikhyatk\/moondream1/);
    const expected = await expectedAnswer('What is it?', 8);
    assert.equal(first.stdout, `${expected.text}\n`);
    assert.match(first.stderr, new RegExp(`, ${expected.tokens.length} tokens at [\\d.]+ tok/s\\]\\n$`));
    const requests = hub.requests.length;
    const second = await run(['ask', IMAGE, 'What is it?', '--max-tokens', '8', '--threads', '2']);
    assert.equal(second.status, 0, second.stderr);
    assert.equal(second.stdout, first.stdout);
    assert.equal(hub.requests.length, requests);
  });

  it('streams: Ctrl-C after the first piece on stdout stops generation, leaving a proper prefix of the answer', async (t) => {
    // A piece that reached stdout while generation could still be interrupted was streamed; an
    // answer printed after generation would be whole. The check counts work, not time: it only
    // loses if all LONG tokens are generated between the first piece and the interrupt.
    const LONG = 1200;
    const files = await findPulledModel({ cacheDir: join(cache, 'moondream-ggml'), revision: REVISION });
    assert.ok(files, 'the CLI left no pulled model in the cache');
    const md = await Moondream.load(files, { threads: 1 });
    let full: string;
    try {
      const answer = await md.answer(await md.encodeImage(IMAGE), 'What is in this picture?', { maxTokens: LONG });
      assert.equal(answer.tokens.length, LONG, 'the un-interrupted answer should not stop by itself');
      full = answer.text;
    } finally {
      md.dispose();
    }
    const child = spawn(process.execPath, [cli, 'ask', IMAGE, 'What is in this picture?', '--max-tokens', String(LONG), '--threads', '2'], {
      env: { ...process.env, HF_ENDPOINT: hub.endpoint, HF_TOKEN: TOKEN, XDG_CACHE_HOME: cache, MOONDREAM_REVISION: REVISION },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      if (!stdout) child.kill('SIGINT');
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    t.diagnostic(`interrupted after ${stdout.length} of ${full.length} characters`);
    assert.equal(status, 1, stderr);
    assert.match(stderr, /Aborting\.\.\..*\nmoondream-ggml: .*\(ERR_ABORTED\)\n$/s);
    assert.ok(stdout.length > 0 && stdout.length < full.length && full.startsWith(stdout),
      `stdout ${JSON.stringify(stdout.slice(0, 80))} (${stdout.length} chars) is not a proper prefix of the ${full.length}-char answer`);
  });

  it('--json gives the answer, its token ids and the timings', async () => {
    const result = await run(['caption', IMAGE, '--max-tokens', '6', '--json']);
    assert.equal(result.status, 0, result.stderr);
    const parsed = JSON.parse(result.stdout) as { answer: string; tokens: number[]; question: string; timings: Record<string, number> };
    assert.equal(parsed.question, 'Describe this image.');
    const expected = await expectedAnswer('Describe this image.', 6);
    assert.deepEqual(parsed.tokens, expected.tokens);
    assert.equal(parsed.answer, expected.text);
    for (const key of ['loadMs', 'encodeMs', 'prefillMs', 'decodeMs', 'tokensPerSecond']) assert.equal(typeof parsed.timings[key], 'number', key);
  });

  it('prints one line and exits 1 on a bad image or a bad option', async () => {
    const bad = await run(['ask', join(cache, 'missing.png'), 'q']);
    assert.equal(bad.status, 1);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    const option = await run(['ask', IMAGE, 'q', '--temperature', 'hot']);
    assert.equal(option.status, 1);
    assert.match(option.stderr, /--temperature must be a number/);
  });
});
