// Distributed batches through BullMQ on a throwaway redis-server: three workers and a producer;
// one worker is killed with SIGKILL while it holds a job and the producer is killed and restarted
// halfway, yet the output holds exactly one line per (file, question) with the single-process
// answers. Then images sent by content, to a worker that cannot read the paths, which stops
// cleanly on SIGTERM.
import assert from 'node:assert/strict';
import { renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { metaKey } from '../../src/batch/queue/names.js';
import { isErrorRecord, type BatchRecord } from '../../src/batch/records.js';
import { Moondream } from '../../src/index.js';
import { countLines, readJsonl, runCli, startCli, waitFor, type CliRun } from '../helpers/batch-cli.js';
import { makeImageTree, type ImageTree } from '../helpers/batch-images.js';
import { hasRedisServer, startRedis, type RedisServer } from '../helpers/redis-server.js';
import { tempDir } from '../helpers/temp-dir.js';
import { tinyPair } from '../helpers/tiny-model.js';

const QUESTIONS = ['What is in this picture?', 'What colour is it?'];
const MAX_TOKENS = 6;
const LOCK_MS = 2500;
const root = tempDir('moondream-batch-queue-');
const skip = hasRedisServer() ? false : 'redis-server is not installed (apt-get install redis-server; .ci/run does it)';
let redis: RedisServer | undefined;
let modelDir: string;
let md: Moondream;
const started: CliRun[] = [];

before(async () => {
  if (skip) return;
  redis = await startRedis();
  const pair = await tinyPair('q8_0', 'f16');
  modelDir = dirname(pair.textPath);
  md = await Moondream.load({ text: pair.textPath, mmproj: pair.mmprojPath }, { threads: 1 });
});

after(async () => {
  for (const run of started) if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
  await Promise.all(started.map((run) => run.exited));
  md?.dispose();
  await redis?.stop();
});

function cli(args: string[]): CliRun {
  const run = startCli(args);
  started.push(run);
  return run;
}

function startWorker(): CliRun {
  return cli(['worker', '--queue', redis!.url, '--model', modelDir, '--threads', '1', '--lock-duration', String(LOCK_MS), '--verbose']);
}

function producerArgs(tree: ImageTree, out: string, job: string, ...extra: string[]): string[] {
  return ['batch', tree.root, ...QUESTIONS.flatMap((q) => ['--question', q]), '--max-tokens', String(MAX_TOKENS),
    '--queue', redis!.url, '--job', job, '--out', out, ...extra];
}

/** The single-process answers: (path, question) -> answer text or error code. */
async function singleProcess(tree: ImageTree): Promise<Map<string, string>> {
  const expected = new Map<string, string>();
  for await (const r of md.batch(tree.root, { questions: QUESTIONS, maxTokens: MAX_TOKENS })) expected.set(key(r), outcome(r));
  return expected;
}

const key = (r: BatchRecord) => `${r.path}\u0000${r.question}`;
const outcome = (r: BatchRecord) => (isErrorRecord(r) ? `error ${r.error.code}` : `answer ${r.answer}`);

/** Jobs a worker's log says it started and finished. */
function jobsOf(run: CliRun): { started: string[]; done: string[] } {
  const log = run.stderr();
  return {
    started: [...log.matchAll(/job (\S+) started/g)].map((m) => m[1]!),
    done: [...log.matchAll(/job (\S+) done/g)].map((m) => m[1]!),
  };
}

describe('distributed batch', { skip }, () => {
  it('loses and doubles nothing when a worker and the producer are killed', async (t) => {
    const tree = await makeImageTree(join(root, 'images'), 36, { seed: 11 });
    const expected = await singleProcess(tree);
    const out = join(root, 'distributed.jsonl');
    const workers = [startWorker(), startWorker(), startWorker()];
    await waitFor(() => workers.every((w) => w.stderr().includes(': ready on ')), 120_000, 'three workers');

    let producer = cli(producerArgs(tree, out, 'kill-test'));
    // The first worker is frozen the moment it starts a job, then killed: it dies holding it.
    const victim = workers[0]!;
    let held: string[] = [];
    for (let attempt = 0; attempt < 5 && held.length === 0; attempt++) {
      const seen = jobsOf(victim).started.length;
      await waitFor(() => jobsOf(victim).started.length > seen, 120_000, 'a job on the first worker');
      victim.child.kill('SIGSTOP');
      const { started: took, done } = jobsOf(victim);
      held = took.filter((id) => !done.includes(id));
      if (held.length === 0) victim.child.kill('SIGCONT');  // it finished in between: catch the next one
    }
    assert.ok(held.length > 0, 'the worker holds a job when it is killed');
    victim.child.kill('SIGKILL');
    assert.equal((await victim.exited).signal, 'SIGKILL');

    // The producer dies too, halfway, and a new one picks up.
    const lines = expected.size;
    await waitFor(() => countLines(out) >= lines / 2, 300_000, 'half of the lines');
    producer.child.kill('SIGKILL');
    await producer.exited;
    const beforeRestart = countLines(out);
    producer = cli([...producerArgs(tree, out, 'kill-test'), '--json']);
    const { code } = await producer.exited;
    assert.equal(code, 0, producer.stderr());
    const summary = JSON.parse(producer.stdout()) as { answered: number; failed: number; skipped: number };

    const records = readJsonl(out);
    assert.equal(records.length, expected.size, 'one line per (file, question)');
    assert.equal(new Set(records.map(key)).size, records.length, 'no (file, question) twice');
    for (const r of records) assert.equal(outcome(r), expected.get(key(r)), key(r));
    assert.equal(summary.skipped, beforeRestart);
    assert.equal(summary.answered + summary.failed + summary.skipped, expected.size);

    // The job the killed worker held was finished by another worker.
    const others = workers.slice(1).flatMap((w) => jobsOf(w).done);
    for (const id of held) assert.ok(others.includes(id), `job ${id} was retried elsewhere`);
    const runs = new Map<string, number>();
    for (const w of workers) for (const id of jobsOf(w).started) runs.set(id, (runs.get(id) ?? 0) + 1);
    const status = await runCli(['batch', '--status', '--queue', redis!.url, '--job', 'kill-test', '--json']);
    assert.equal(status.code, 0, status.stderr);
    const s = JSON.parse(status.stdout) as { state: string; done: number; total: number; pendingJobs: number; activeJobs: number };
    assert.equal(s.state, 'done');
    assert.equal(s.done, s.total);
    assert.equal(s.pendingJobs, 0);
    t.diagnostic(`kill test: ${records.length} lines for ${tree.images.length + tree.broken.length} files; ${runs.size} jobs, ` +
      `${[...runs.values()].filter((n) => n > 1).length} run twice; killed worker held ${held.length}; ` +
      `${beforeRestart} lines written before the producer was killed, ${summary.answered + summary.failed} after`);

    for (const w of workers.slice(1)) w.child.kill('SIGTERM');
    for (const w of workers.slice(1)) {
      assert.equal((await w.exited).code, 0, w.stderr());
      assert.match(w.stderr(), /: stopped\n/);
    }
  });

  it('sends images by content; a worker finishes its jobs on SIGTERM', async () => {
    const tree = await makeImageTree(join(root, 'sent'), 4, { seed: 12, extras: false });
    const expected = await singleProcess(tree);
    const out = join(root, 'sent.jsonl');
    const producer = cli(producerArgs(tree, out, 'sent', '--send-images'));
    await queuedJobs('sent', 4);
    // Workers cannot read the files: they must use the bytes in the jobs.
    const moved = `${tree.root}-moved`;
    renameSync(tree.root, moved);

    const first = startWorker();
    await waitFor(() => jobsOf(first).started.length > 0, 120_000, 'a job on the worker');
    first.child.kill('SIGTERM');
    assert.equal((await first.exited).code, 0, first.stderr());
    const { started: took, done } = jobsOf(first);
    assert.deepEqual([...done].sort(), [...took].sort(), 'every job it took was finished');

    startWorker();
    assert.equal((await producer.exited).code, 0, producer.stderr());
    renameSync(moved, tree.root);
    const records = readJsonl(out);
    assert.equal(records.length, expected.size);
    for (const r of records) assert.equal(outcome(r), expected.get(key(r)), key(r));
    assert.ok(records.every((r) => !isErrorRecord(r)));
  });
});

/** Resolves once the producer of `job` reports `n` jobs queued (it writes its counters every 2 s). */
async function queuedJobs(job: string, n: number): Promise<void> {
  const client = new Redis(redis!.url);
  try {
    for (let i = 0; i < 300 && Number(await client.hget(metaKey(job), 'pendingJobs')) < n; i++) await new Promise((r) => setTimeout(r, 200));
  } finally {
    client.disconnect();
  }
}
