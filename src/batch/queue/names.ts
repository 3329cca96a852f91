// Where a distributed batch lives in Redis: one BullMQ queue that every worker serves, job ids
// made of the batch's name, its options and the image's content hash (so enqueueing the same
// image twice, or again after a producer restart, adds nothing), and a hash of progress counters
// per batch for `batch --status`.
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { invalidArgument } from '../../errors.js';

/** The queue all workers take jobs from (any number of batches share it). */
export const QUEUE_NAME = 'moondream-ggml-batch';

/** BullMQ's own key prefix, kept as its default so its tools (Taskforce, bull-board) find the queue. */
export const KEY_PREFIX = 'bull';

/** Letters, digits, '_' and '-': job ids join parts with '.', and ':' is Redis's separator. */
const NAME_PATTERN = /^[A-Za-z0-9_-]{1,100}$/;

export function checkBatchName(name: unknown): string {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw invalidArgument('the job name', "1 to 100 letters, digits, '_' or '-'", name);
  }
  return name;
}

/** A short hash of what changes the answers, so a rerun with other questions makes new jobs. */
export function optionsTag(questions: readonly string[], maxTokens: number | undefined): string {
  return createHash('sha256').update(JSON.stringify({ questions, maxTokens: maxTokens ?? null })).digest('hex').slice(0, 12);
}

export function jobIdFor(name: string, tag: string, sha256: string): string {
  return `${name}.${tag}.${sha256}`;
}

/** Whether a job id belongs to the batch `name`. */
export function isJobOf(jobId: string | undefined, name: string): boolean {
  return jobId !== undefined && jobId.startsWith(`${name}.`);
}

/** The producer's counters for `batch --status`. */
export function metaKey(name: string): string {
  return `${KEY_PREFIX}:${QUEUE_NAME}:batch:${name}`;
}

export function workerId(): string {
  return `${hostname()}:${process.pid}`;
}
