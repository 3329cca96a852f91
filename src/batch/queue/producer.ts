// The producer of a distributed batch: walks the inputs, enqueues one BullMQ job per distinct
// image that still needs answers, and writes the workers' results into the JSONL output, where
// they are keyed by (content, question) exactly as on one machine. Jobs have deterministic ids,
// so a restarted producer re-adds nothing that is still queued and collects what finished while
// it was away; a job that ran twice (its first worker died) is collected once.
import { Queue, QueueEvents } from 'bullmq';
import { resolve as resolvePath } from 'node:path';
import { abortedError } from '../../abort.js';
import { readImageFile, type ErrorInfo, type QuestionResult } from '../image-work.js';
import { collectInputs, type InputEntry } from '../inputs.js';
import type { BatchProgress } from '../options.js';
import { BatchCounters, type BatchSummary } from '../progress.js';
import { contentKey, copyRecord, isErrorRecord, type BatchRecord } from '../records.js';
import { ResultLog } from '../result-log.js';
import { redisClient, type QueueConnection } from './connection.js';
import { JOB_VERSION, parseJobResult, type BatchJobData } from './job-data.js';
import { jobIdFor, KEY_PREFIX, metaKey, optionsTag, QUEUE_NAME, workerId } from './names.js';

export interface ProducerOptions {
  connection: QueueConnection;
  name: string;
  inputs: string[];
  questions: string[];
  out: string;
  resume: boolean;
  maxTokens: number | undefined;
  /** Send each image's bytes in its job (up to sendLimitBytes) instead of its path. */
  sendImages: boolean;
  sendLimitBytes: number;
  /** Jobs queued and not yet collected, at most (default 256, or 16 when sending images). */
  window?: number;
  signal?: AbortSignal;
  onProgress?: (progress: BatchProgress) => void;
}

/** Attempts per job: a processor error or a stop returns the job for another try. */
const ATTEMPTS = 3;
/** Finished jobs the producer never collected (it was stopped for good) leave Redis after a week. */
const KEEP_SECONDS = 7 * 24 * 3600;
const SWEEP_MS = 2000;
const READ_AHEAD = 4;

interface Waiter {
  path: string;
  questions: string[];
}

interface PendingJob {
  sha256: string;
  waiters: Waiter[];
}

type Read = { entry: InputEntry; read: { bytes: Buffer; sha256: string } | { error: ErrorInfo } };

export async function produceBatch(o: ProducerOptions): Promise<BatchSummary> {
  const { signal, questions, name } = o;
  if (signal?.aborted) throw abortedError();
  const entries = await collectInputs(o.inputs, signal);
  const log = await ResultLog.open(o.out, { resume: o.resume });
  const index = log.index;
  const counters = new BatchCounters(entries.length);
  const tag = optionsTag(questions, o.maxTokens);
  const window = o.window ?? (o.sendImages ? 16 : 256);
  const queue = new Queue(QUEUE_NAME, { connection: o.connection, prefix: KEY_PREFIX });
  const events = new QueueEvents(QUEUE_NAME, { connection: o.connection, prefix: KEY_PREFIX });
  const redis = redisClient(o.connection);
  const started = new Date().toISOString();

  const pending = new Map<string, PendingJob>();
  const collecting = new Set<string>();
  /** Results collected this run, by (content, question), for identical files met later. */
  const resolved = new Map<string, BatchRecord>();
  /** Lines each file still waits for. */
  const linesLeft = new Map<string, number>();
  let wake: () => void = () => undefined;
  const changed = () => new Promise<void>((resolve) => { wake = resolve; });
  const onAbort = () => wake();
  signal?.addEventListener('abort', onAbort);
  let failure: unknown;

  const progress = () => o.onProgress?.(counters.progress());
  const writeMeta = async (state: string) => {
    const p = counters.progress();
    await redis.multi()
      .hset(metaKey(name), {
        state, total: p.total, done: p.done, answered: p.answered, failed: p.failed, skipped: p.skipped,
        pendingJobs: pending.size, producer: workerId(), out: resolvePath(o.out), questions: JSON.stringify(questions),
        startedAt: started, updatedAt: new Date().toISOString(),
      })
      .expire(metaKey(name), KEEP_SECONDS)
      .exec();
  };

  const write = async (record: BatchRecord) => {
    await log.append([record]);
    if (isErrorRecord(record)) counters.failed += 1;
    else counters.answered += 1;
    const left = (linesLeft.get(record.path) ?? 1) - 1;
    if (left > 0) {
      linesLeft.set(record.path, left);
    } else {
      linesLeft.delete(record.path);
      counters.fileDone(true);
      progress();
    }
  };

  const templateFor = (sha256: string, path: string, r: QuestionResult): BatchRecord => ('error' in r
    ? { path, sha256, question: r.question, error: r.error }
    : { path, sha256, question: r.question, answer: r.answer, tokens: r.tokens, timings: r.timings });

  /** Writes a finished job's lines for every file waiting on it, then removes it from Redis. */
  const collect = async (jobId: string) => {
    const job = pending.get(jobId);
    if (!job || collecting.has(jobId)) return;
    collecting.add(jobId);
    try {
      const stored = await queue.getJob(jobId);
      const state = stored ? await stored.getState() : 'unknown';
      if (state !== 'completed' && state !== 'failed' && state !== 'unknown') return;
      // From here on nothing else may add waiters to this job: take it out of `pending` first.
      pending.delete(jobId);
      const result = state === 'completed' ? parseJobResult(stored!.returnvalue, questions) : undefined;
      const failed: ErrorInfo | undefined = result ? undefined : {
        code: 'ERR_INTERNAL',
        message: state === 'completed' ? 'The worker returned a malformed result'
          : state === 'failed' ? `The job failed: ${stored!.failedReason}` : 'The job disappeared from the queue',
      };
      // All of the job's results are known before the first await, so a file with the same bytes
      // met meanwhile copies them instead of queueing the job again.
      const lines: BatchRecord[] = [];
      for (const question of questions) {
        const r = result?.results.find((x) => x.question === question) ?? { question, error: failed! };
        // The first file waiting on these bytes gets the result; identical files get copies.
        const askers = job.waiters.filter((w) => w.questions.includes(question));
        const original = templateFor(job.sha256, askers[0]?.path ?? job.waiters[0]!.path, r);
        resolved.set(contentKey(job.sha256, question), original);
        askers.forEach((waiter, i) => lines.push(i === 0 ? original : copyRecord(original, waiter.path)));
      }
      for (const line of lines) await write(line);
      await stored?.remove().catch(() => undefined);
      wake();
    } catch (error) {
      failure ??= error;
      wake();
    } finally {
      collecting.delete(jobId);
    }
  };

  const completed = ({ jobId }: { jobId: string }) => void collect(jobId);
  events.on('completed', completed);
  events.on('failed', completed);
  const sweep = setInterval(() => {
    for (const jobId of pending.keys()) void collect(jobId);
    void writeMeta('running').catch(() => undefined);
    wake();
  }, SWEEP_MS);

  const readAhead: Promise<Read>[] = [];
  let nextEntry = 0;
  const fill = () => {
    while (nextEntry < entries.length && readAhead.length < READ_AHEAD) {
      const entry = entries[nextEntry++]!;
      const read: Promise<Read> = entry.error
        ? Promise.resolve({ entry, read: { error: entry.error } })
        : readImageFile(entry.path).then((r) => ({ entry, read: r }));
      readAhead.push(read);
    }
  };

  const check = () => {
    if (failure) throw failure;
    if (signal?.aborted) throw abortedError();
  };

  try {
    await events.waitUntilReady();
    await writeMeta('running');
    progress();
    fill();
    while (readAhead.length > 0) {
      check();
      const { entry, read } = await readAhead.shift()!;
      fill();
      const path = entry.path;
      if ('error' in read) {
        const todo = questions.filter((q) => !index.has(path, undefined, q));
        counters.skipped += questions.length - todo.length;
        if (todo.length === 0) counters.fileDone(false);
        else linesLeft.set(path, todo.length);
        for (const question of todo) await write({ path, question, error: read.error });
        continue;
      }
      const { sha256, bytes } = read;
      const todo = questions.filter((q) => !index.has(path, sha256, q));
      counters.skipped += questions.length - todo.length;
      if (todo.length === 0) {
        counters.fileDone(false);
        progress();
        continue;
      }
      linesLeft.set(path, todo.length);
      const rest: string[] = [];
      for (const question of todo) {
        const earlier = index.find(sha256, question) ?? resolved.get(contentKey(sha256, question));
        if (earlier) await write(copyRecord(earlier, path));
        else rest.push(question);
      }
      if (rest.length === 0) continue;
      const jobId = jobIdFor(name, tag, sha256);
      const existing = pending.get(jobId);
      if (existing) {
        existing.waiters.push({ path, questions: rest });  // the same bytes under another path
        continue;
      }
      if (o.sendImages && bytes.length > o.sendLimitBytes) {
        const error = { code: 'ERR_INVALID_ARGUMENT', message: `'${path}' is ${bytes.length} bytes, more than the ${o.sendLimitBytes}-byte limit for sending images` };
        for (const question of rest) await write({ path, sha256, question, error });
        continue;
      }
      while (pending.size >= window) {
        check();
        await changed();
      }
      check();
      const data: BatchJobData = {
        v: JOB_VERSION, batch: name, sha256, path: resolvePath(path), questions,
        ...(o.maxTokens !== undefined ? { maxTokens: o.maxTokens } : {}),
        ...(o.sendImages ? { content: bytes.toString('base64') } : {}),
      };
      pending.set(jobId, { sha256, waiters: [{ path, questions: rest }] });
      await queue.add('image', data, {
        jobId, attempts: ATTEMPTS, backoff: { type: 'fixed', delay: 1000 },
        removeOnComplete: { age: KEEP_SECONDS }, removeOnFail: { age: KEEP_SECONDS },
      });
      void collect(jobId);  // already finished, if an earlier producer queued it
    }
    while (pending.size > 0 || collecting.size > 0) {
      check();
      await changed();
    }
    check();
    await writeMeta('done');
    return counters.summary(false);
  } catch (error) {
    progress();
    await writeMeta(signal?.aborted ? 'interrupted' : 'failed').catch(() => undefined);
    throw error;
  } finally {
    clearInterval(sweep);
    signal?.removeEventListener('abort', onAbort);
    events.off('completed', completed);
    events.off('failed', completed);
    await Promise.allSettled([events.close(), queue.close()]);
    redis.disconnect();
    await log.close();
  }
}
