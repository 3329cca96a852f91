// Concurrent pulls of one model into one cache (workers or server replicas started together): one
// process downloads and converts, the others wait on the lock and then use its pair. A lock left by
// a process that died is taken over.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pullModel, defaultModelDir } from '../../src/hub.js';
import { acquirePullLock } from '../../src/hub/pull-lock.js';
import { MOONDREAM1_REPO } from '../../src/hub/repo-files.js';
import { Moondream } from '../../src/index.js';
import { startCli, waitFor } from '../helpers/batch-cli.js';
import { checkpointFiles, startFakeHub, type FakeHub } from '../helpers/fake-hub.js';
import { tempDir } from '../helpers/temp-dir.js';
import { tinyCheckpoint } from '../helpers/tiny-model.js';

const REVISION = '89abcdef0123456789abcdef0123456789abcdef';
const TOKEN = 'hf_lock_token';
const root = tempDir('moondream-pull-lock-');
let hub: FakeHub;
let modelSha: string;

before(async () => {
  const checkpoint = await tinyCheckpoint();
  const read = (name: string) => readFileSync(join(checkpoint, name));
  modelSha = createHash('sha256').update(read('model.safetensors')).digest('hex');
  hub = await startFakeHub({
    repo: MOONDREAM1_REPO,
    revisions: { [REVISION]: REVISION },
    token: TOKEN,
    files: checkpointFiles(checkpoint),
  });
});
after(() => hub.close());

describe('concurrent pulls', () => {
  it('three processes pulling at once: one downloads and converts, two wait and then load its pair', async () => {
    const xdg = join(root, 'shared');
    const dir = defaultModelDir({ cacheDir: join(xdg, 'moondream-ggml'), revision: REVISION });
    // The test holds the lock first, so that all three are surely running at once when it lets go.
    const release = await acquirePullLock(dir);
    const env = { XDG_CACHE_HOME: xdg, HF_ENDPOINT: hub.endpoint, HF_TOKEN: TOKEN };
    const pulls = [0, 1, 2].map(() => startCli(['pull', '--revision', REVISION], env));
    await waitFor(() => pulls.every((p) => p.stderr().includes('waiting for another pull')), 120_000, 'three waiting pulls');
    await release();
    const codes = await Promise.all(pulls.map((p) => p.exited));
    for (const [i, { code }] of codes.entries()) assert.equal(code, 0, pulls[i]!.stderr());

    assert.equal(pulls.filter((p) => /^pulled: /m.test(p.stderr())).length, 1);
    assert.equal(pulls.filter((p) => /^already in the cache: /m.test(p.stderr())).length, 2);
    assert.equal(new Set(pulls.map((p) => p.stdout())).size, 1, 'all three print the same pair');
    assert.equal(hub.requests.filter((r) => r.path === `/cdn/${modelSha}`).length, 1, 'the weights were downloaded once');
    assert.equal(existsSync(`${dir}.lock`), false, 'the lock is gone');

    const [text, mmproj] = pulls[0]!.stdout().trim().split('\n') as [string, string];
    const md = await Moondream.load({ text, mmproj }, { threads: 1 });
    try {
      assert.equal(md.info.prompt.revision, REVISION);
    } finally {
      md.dispose();
    }
  });

  it('takes over the lock of a pull that died', async () => {
    const cacheDir = join(root, 'stale', 'moondream-ggml');
    const dir = defaultModelDir({ cacheDir, revision: REVISION });
    mkdirSync(`${dir}.lock`, { recursive: true });
    const longAgo = new Date(Date.now() - 5 * 60_000);
    utimesSync(`${dir}.lock`, longAgo, longAgo);
    const pulled = await pullModel({ endpoint: hub.endpoint, token: TOKEN, revision: REVISION, cacheDir });
    assert.equal(pulled.cached, false);
    assert.equal(existsSync(`${dir}.lock`), false);
  });

  it('a waiting pull stops on abort', async () => {
    const cacheDir = join(root, 'abort', 'moondream-ggml');
    const release = await acquirePullLock(defaultModelDir({ cacheDir, revision: REVISION }));
    try {
      const controller = new AbortController();
      const waits: number[] = [];
      const pulling = pullModel({
        endpoint: hub.endpoint, token: TOKEN, revision: REVISION, cacheDir, signal: controller.signal,
        onProgress: (p) => { if (p.phase === 'wait') waits.push(p.done); },
      });
      await waitFor(() => waits.length > 0, 30_000, 'the pull to wait');
      controller.abort();
      await assert.rejects(pulling, (e: unknown) => (e as { code?: string }).code === 'ERR_ABORTED');
    } finally {
      await release();
    }
  });
});
