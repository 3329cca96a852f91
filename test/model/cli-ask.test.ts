// The main job as a user runs it: `moondream-ggml ask <image> <question>` with no model yet pulls
// it (here from a local imitation of the hub), converts it, and streams the answer to stdout.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MOONDREAM1_REPO } from '../../src/hub/repo-files.js';
import { startFakeHub, type FakeHub } from '../helpers/fake-hub.js';
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
  const read = (name: string) => readFileSync(join(dir, name));
  hub = await startFakeHub({
    repo: MOONDREAM1_REPO,
    revisions: { [REVISION]: REVISION },
    token: TOKEN,
    files: [
      { name: 'model.safetensors', data: read('model.safetensors'), lfs: true },
      { name: 'tokenizer.json', data: read('tokenizer.json'), lfs: false },
      { name: 'config.json', data: read('config.json'), lfs: false },
      { name: 'generation_config.json', data: read('generation_config.json'), lfs: false },
    ],
  });
});
after(() => hub.close());

describe('moondream-ggml ask', () => {
  it('pulls the model on first use, then answers on stdout; the second run needs no network', async () => {
    const first = await run(['ask', IMAGE, 'What is in this picture?', '--max-tokens', '12', '--threads', '2']);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stderr, /pulling vikhyatk\/moondream1/);
    assert.ok(first.stdout.trim().length > 0);
    const requests = hub.requests.length;
    const second = await run(['ask', IMAGE, 'What is in this picture?', '--max-tokens', '12', '--threads', '2']);
    assert.equal(second.status, 0, second.stderr);
    assert.equal(second.stdout, first.stdout);
    assert.equal(hub.requests.length, requests);
  });

  it('streams visibly: stdout gets its first piece before generation ends', async () => {
    const child = spawn(process.execPath, [cli, 'ask', IMAGE, 'What is in this picture?', '--max-tokens', '400', '--threads', '2'], {
      env: { ...process.env, HF_ENDPOINT: hub.endpoint, HF_TOKEN: TOKEN, XDG_CACHE_HOME: cache, MOONDREAM_REVISION: REVISION },
    });
    let firstStdout = 0;
    let chunks = 0;
    let summaryAt = 0;  // the timing line goes to stderr once generation has ended
    child.stdout.on('data', () => {
      chunks += 1;
      if (!firstStdout) firstStdout = performance.now();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (!summaryAt && chunk.toString().includes('tok/s]')) summaryAt = performance.now();
    });
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(status, 0);
    assert.ok(chunks > 1, `stdout arrived in ${chunks} chunk(s)`);
    assert.ok(firstStdout > 0 && summaryAt > 0 && firstStdout < summaryAt, 'the first piece came after generation ended');
  });

  it('--json gives the answer, its token ids and the timings', async () => {
    const result = await run(['caption', IMAGE, '--max-tokens', '6', '--json']);
    assert.equal(result.status, 0, result.stderr);
    const parsed = JSON.parse(result.stdout) as { answer: string; tokens: number[]; timings: Record<string, number> };
    assert.equal(typeof parsed.answer, 'string');
    assert.ok(parsed.tokens.length > 0 && parsed.tokens.length <= 6);
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
