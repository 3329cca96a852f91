// `pull` against a local imitation of the Hugging Face hub serving the tiny generated checkpoint:
// download, verify, convert, load; the cache as a no-op; resume after a cut; a restart when Range
// is ignored; a flipped byte; abort; auth; unknown revisions; the pinned revision's known sizes.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { MOONDREAM1_REVISION } from '../../src/convert/profile.js';
import { pullModel, defaultModelDir, findPulledModel, type PullOptions, type PullProgress } from '../../src/hub.js';
import { MOONDREAM1_REPO } from '../../src/hub/repo-files.js';
import { Moondream, MoondreamError } from '../../src/index.js';
import { startFakeHub, type FakeHub } from '../helpers/fake-hub.js';
import { tempDir } from '../helpers/temp-dir.js';
import { tinyCheckpoint } from '../helpers/tiny-model.js';

const REVISION = '0123456789abcdef0123456789abcdef01234567';
const TOKEN = 'hf_test_token';
const MODEL = 'model.safetensors';
const root = tempDir('moondream-hub-');
let hub: FakeHub;
let modelSha256: string;
let modelSize: number;

delete process.env.HF_TOKEN;  // only what the options say is sent
delete process.env.HF_ENDPOINT;

before(async () => {
  const checkpoint = await tinyCheckpoint();
  const read = (name: string) => readFileSync(join(checkpoint, name));
  const model = read(MODEL);
  modelSha256 = createHash('sha256').update(model).digest('hex');
  modelSize = model.length;
  hub = await startFakeHub({
    repo: MOONDREAM1_REPO,
    revisions: { [REVISION]: REVISION, main: REVISION, [MOONDREAM1_REVISION]: MOONDREAM1_REVISION },
    token: TOKEN,
    files: [
      { name: MODEL, data: model, lfs: true },
      { name: 'tokenizer.json', data: read('tokenizer.json'), lfs: false },
      { name: 'config.json', data: read('config.json'), lfs: false },
      { name: 'generation_config.json', data: read('generation_config.json'), lfs: false },
    ],
  });
});
after(() => hub.close());

let caches = 0;
/** Options for a pull into a fresh cache (or the given one). */
function options(extra: Partial<PullOptions> = {}): PullOptions {
  // Laid out as XDG_CACHE_HOME would make it, so the CLI can find the same cache.
  return { endpoint: hub.endpoint, token: TOKEN, revision: REVISION, cacheDir: join(root, `xdg-${++caches}`, 'moondream-ggml'), ...extra };
}

async function rejectsWith(promise: Promise<unknown>, code: string, message: RegExp): Promise<MoondreamError> {
  const error = await promise.then(() => assert.fail('expected a rejection'), (e: unknown) => e);
  assert.ok(error instanceof MoondreamError, String(error));
  assert.equal(error.code, code, error.message);
  assert.match(error.message, message);
  return error;
}

const sha256File = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');
const modelRequests = () => hub.requests.filter((r) => r.path.startsWith('/cdn/'));

describe('pull from a hub', () => {
  let first: PullOptions;

  it('downloads, verifies and converts into a loadable pair; sends the token as a Bearer header', async () => {
    first = options();
    const progress: PullProgress[] = [];
    const pulled = await pullModel({ ...first, onProgress: (p) => progress.push(p) });
    assert.equal(pulled.dir, join(first.cacheDir!, 'models', 'moondream1-0123456'));
    assert.equal(pulled.textPath, join(pulled.dir, 'moondream1-text-model-q4_0.gguf'));
    assert.equal(pulled.mmprojPath, join(pulled.dir, 'moondream1-mmproj-f16.gguf'));
    assert.equal(pulled.license, 'research only, no commercial use');
    assert.equal(pulled.cached, false);
    assert.deepEqual((await readdir(join(pulled.dir, 'hf'))).sort(),
      ['config.json', 'generation_config.json', MODEL, 'tokenizer.json']);
    assert.equal(await sha256File(join(pulled.dir, 'hf', MODEL)), modelSha256);

    const downloads = progress.filter((p) => p.phase === 'download');
    assert.equal(downloads.at(-1)?.done, downloads.at(-1)?.total);
    assert.ok(progress.some((p) => p.phase === 'convert'));
    assert.ok(hub.requests.every((r) => r.authorization === `Bearer ${TOKEN}`));
    assert.deepEqual(await findPulledModel({ cacheDir: first.cacheDir!, revision: REVISION }),
      { text: pulled.textPath, mmproj: pulled.mmprojPath });

    const md = await Moondream.load(pulled.dir, { threads: 2 });
    try {
      assert.equal(md.info.prompt.name, 'moondream1');
      assert.equal(md.info.prompt.revision, REVISION);
    } finally {
      md.dispose();
    }
  });

  it('a second pull finds the pair in the cache and makes no request', async () => {
    const before = hub.requests.length;
    const started = Date.now();
    const pulled = await pullModel(first);
    assert.equal(pulled.cached, true);
    assert.equal(hub.requests.length, before);
    assert.ok(Date.now() - started < 1000);
  });

  it('a branch name resolves through the listing to the cached commit', async () => {
    const before = hub.requests.length;
    const pulled = await pullModel({ ...first, revision: 'main' });
    assert.equal(pulled.cached, true);
    assert.equal(pulled.revision, REVISION);
    assert.equal(hub.requests.length, before + 1);  // the listing only
  });

  it('the CLI reports the cached model: paths on stdout, the licence on stderr', async () => {
    const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
    const env = { ...process.env, XDG_CACHE_HOME: dirname(first.cacheDir!) };
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [cli, 'pull', '--revision', REVISION], { env });
    const dir = join(first.cacheDir!, 'models', 'moondream1-0123456');
    assert.equal(stdout, `${join(dir, 'moondream1-text-model-q4_0.gguf')}\n${join(dir, 'moondream1-mmproj-f16.gguf')}\n`);
    assert.match(stderr, /research only, no commercial use/);
  });

  it('the CLI prints one line and exits 1 on an unknown revision', async () => {
    const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
    const env = { ...process.env, XDG_CACHE_HOME: join(root, 'xdg-cli'), HF_ENDPOINT: hub.endpoint, HF_TOKEN: TOKEN };
    const result = await promisify(execFile)(process.execPath, [cli, 'pull', '--revision', 'no-such-branch'], { env })
      .then(() => assert.fail('expected exit 1'), (e: { code: number; stderr: string }) => e);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^moondream-ggml: .*HTTP 404.*\(ERR_DOWNLOAD\)\n$/);
  });
});

describe('pull: interrupted and bad downloads', () => {
  it('resumes a cut download with a Range request and ends with the right sha256', async () => {
    const opts = options({ textType: 'f16' });
    hub.faults.set(MODEL, 'cut');
    await rejectsWith(pullModel(opts), 'ERR_DOWNLOAD', /model\.safetensors stopped after \d+ of \d+ bytes \(run pull again to resume\)/);
    const partial = join(defaultModelDir({ cacheDir: opts.cacheDir!, revision: REVISION }), 'hf', `${MODEL}.incomplete`);
    const kept = statSync(partial).size;
    assert.ok(kept > 0 && kept < modelSize, `kept ${kept} bytes`);

    const cdnBefore = modelRequests().length;
    const pulled = await pullModel(opts);
    assert.deepEqual(modelRequests().slice(cdnBefore).map((r) => r.range), [`bytes=${kept}-`]);
    assert.equal(existsSync(partial), false);
    assert.equal(await sha256File(join(pulled.dir, 'hf', MODEL)), modelSha256);
  });

  it('starts over cleanly when the server ignores Range (200 instead of 206)', async () => {
    const opts = options({ textType: 'f16' });
    hub.faults.set(MODEL, 'cut');
    await rejectsWith(pullModel(opts), 'ERR_DOWNLOAD', /stopped after/);
    hub.ignoreRange = true;
    try {
      const pulled = await pullModel(opts);
      assert.equal(await sha256File(join(pulled.dir, 'hf', MODEL)), modelSha256);
    } finally {
      hub.ignoreRange = false;
    }
  });

  it('a flipped byte fails the sha256 check and leaves no file behind', async () => {
    const opts = options();
    hub.faults.set(MODEL, 'flip');
    await rejectsWith(pullModel(opts), 'ERR_DOWNLOAD', new RegExp(`${MODEL.replace('.', '\\.')} does not match .*sha256 [0-9a-f]{64}, expected ${modelSha256}`));
    const dir = defaultModelDir({ cacheDir: opts.cacheDir!, revision: REVISION });
    assert.deepEqual((await readdir(join(dir, 'hf'))).filter((n) => n.startsWith(MODEL)), []);
    assert.deepEqual((await readdir(dir)).filter((n) => n.endsWith('.gguf')), []);
  });

  it('an abort closes the connection and keeps the partial file for a resume', async () => {
    const controller = new AbortController();
    let aborting: NodeJS.Timeout | undefined;
    const opts = options({
      signal: controller.signal,
      // Abort once the first half has arrived and the read waits on the stalled server.
      onProgress: (p) => {
        if (p.phase === 'download' && p.file === MODEL && p.done > p.total / 4 && !aborting) aborting = setTimeout(() => controller.abort(), 100);
      },
    });
    hub.faults.set(MODEL, 'stall');
    await rejectsWith(pullModel(opts), 'ERR_ABORTED', /aborted/);
    await hub.stalledClosed;  // the server saw the socket go
    const partial = join(defaultModelDir({ cacheDir: opts.cacheDir!, revision: REVISION }), 'hf', `${MODEL}.incomplete`);
    assert.ok(statSync(partial).size > 0);
  });

  it('an abort during the conversion leaves no GGUF file, and the download stays', async () => {
    const controller = new AbortController();
    const opts = options({
      signal: controller.signal,
      onProgress: (p) => { if (p.phase === 'convert') controller.abort(); },
    });
    await rejectsWith(pullModel(opts), 'ERR_ABORTED', /aborted/);
    const dir = defaultModelDir({ cacheDir: opts.cacheDir!, revision: REVISION });
    assert.deepEqual((await readdir(dir)).filter((n) => n.includes('.gguf')), []);
    assert.ok(existsSync(join(dir, 'hf', MODEL)));
  });

  it('Ctrl-C stops the CLI with exit 130 and keeps the partial file', async () => {
    const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
    const xdg = join(root, 'xdg-sigint');
    const partial = join(defaultModelDir({ cacheDir: join(xdg, 'moondream-ggml'), revision: REVISION }), 'hf', `${MODEL}.incomplete`);
    hub.faults.set(MODEL, 'stall');
    const child = spawn(process.execPath, [cli, 'pull', '--revision', REVISION], {
      env: { ...process.env, XDG_CACHE_HOME: xdg, HF_ENDPOINT: hub.endpoint, HF_TOKEN: TOKEN },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    while (!(existsSync(partial) && statSync(partial).size > 0)) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 100));
    child.kill('SIGINT');
    assert.equal(await exited, 130);
    assert.equal(stderr, 'moondream-ggml: pull interrupted; run it again to resume\n');
    await hub.stalledClosed;
    assert.ok(statSync(partial).size > 0);
  });
});

describe('pull: refusals', () => {
  it('without a token the hub answers 401 and the error says to set HF_TOKEN', async () => {
    await rejectsWith(pullModel(options({ token: '' })), 'ERR_DOWNLOAD', /HTTP 401.*Invalid credentials.*set HF_TOKEN/);
    await rejectsWith(pullModel(options({ token: 'hf_wrong' })), 'ERR_DOWNLOAD', /HTTP 401.*rejected HF_TOKEN/);
  });

  it('an unknown revision is a 404 naming the revision', async () => {
    await rejectsWith(pullModel(options({ revision: 'f'.repeat(40) })), 'ERR_DOWNLOAD', new RegExp(`revision ${'f'.repeat(40)}.*HTTP 404`));
  });

  it('the pinned revision must list the published sizes', async () => {
    await rejectsWith(pullModel(options({ revision: MOONDREAM1_REVISION })), 'ERR_DOWNLOAD',
      /lists config\.json at f6e9da6 as \d+ bytes, but the published file is 323 bytes/);
  });

  it('an unreachable endpoint is a clear error', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    await rejectsWith(pullModel(options({ endpoint })), 'ERR_DOWNLOAD', new RegExp(`Cannot reach ${endpoint}: .*ECONNREFUSED`));
  });

  it('bad options are ERR_INVALID_ARGUMENT', async () => {
    await rejectsWith(pullModel(options({ textType: 'q3' as never })), 'ERR_INVALID_ARGUMENT', /options\.textType/);
    await rejectsWith(pullModel(options({ endpoint: 'ftp://x' })), 'ERR_INVALID_ARGUMENT', /options\.endpoint/);
  });
});
