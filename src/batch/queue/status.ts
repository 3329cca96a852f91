// `batch --status`: a distributed batch's progress as its producer last recorded it, with the
// queue's live numbers (jobs of this batch being worked on, waiting jobs, connected workers).
import { Queue } from 'bullmq';
import { redisClient, type QueueConnection } from './connection.js';
import { isJobOf, KEY_PREFIX, metaKey, QUEUE_NAME } from './names.js';

export interface BatchStatus {
  name: string;
  /** False when no producer has recorded this batch (or its record expired). */
  known: boolean;
  /** running, done, interrupted or failed, as the producer last wrote it. */
  state: string | undefined;
  total: number;
  done: number;
  answered: number;
  failed: number;
  skipped: number;
  /** Jobs queued by the producer and not yet collected. */
  pendingJobs: number;
  /** Jobs of this batch that workers hold now. */
  activeJobs: number;
  /** The whole queue (every batch): jobs waiting for a worker, and workers connected. */
  queueWaiting: number;
  workers: number;
  producer: string | undefined;
  out: string | undefined;
  updatedAt: string | undefined;
  /** Seconds since the producer last wrote its counters (it writes every 2 s while it runs). */
  ageSeconds: number | undefined;
}

export async function readBatchStatus(connection: QueueConnection, name: string): Promise<BatchStatus> {
  const redis = redisClient(connection);
  const queue = new Queue(QUEUE_NAME, { connection, prefix: KEY_PREFIX });
  try {
    const [meta, counts, active, workers] = await Promise.all([
      redis.hgetall(metaKey(name)),
      queue.getJobCounts('waiting', 'prioritized', 'delayed'),
      queue.getJobs(['active']),
      queue.getWorkersCount(),
    ]);
    const number = (key: string) => Number(meta[key] ?? 0);
    const updatedAt = meta.updatedAt;
    return {
      name,
      known: Object.keys(meta).length > 0,
      state: meta.state,
      total: number('total'),
      done: number('done'),
      answered: number('answered'),
      failed: number('failed'),
      skipped: number('skipped'),
      pendingJobs: number('pendingJobs'),
      activeJobs: active.filter((job) => isJobOf(job.id, name)).length,
      queueWaiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0),
      workers,
      producer: meta.producer,
      out: meta.out,
      updatedAt,
      ageSeconds: updatedAt ? Math.max(0, (Date.now() - Date.parse(updatedAt)) / 1000) : undefined,
    };
  } finally {
    await queue.close();
    redis.disconnect();
  }
}

export function formatBatchStatus(s: BatchStatus): string {
  if (!s.known) return `${s.name}: no such batch in this queue (or its record expired)`;
  const producer = s.state === 'running' && (s.ageSeconds ?? Infinity) > 10
    ? `not running (last seen ${Math.round(s.ageSeconds!)} s ago at ${s.producer}; restart it to keep collecting)`
    : `${s.state} (${s.producer})`;
  return [
    `${s.name}: ${s.done}/${s.total} files done: ${s.answered} answered, ${s.failed} failed, ${s.skipped} skipped`,
    `  jobs: ${s.pendingJobs} queued by the producer, ${s.activeJobs} held by workers now`,
    `  queue: ${s.queueWaiting} jobs waiting (all batches), ${s.workers} workers connected`,
    `  producer: ${producer}`,
    `  output: ${s.out}`,
  ].join('\n');
}
