// A batch worker: takes jobs from the BullMQ queue until closed, each with its own model. BullMQ
// keeps a lock on every job it holds and renews it while the worker lives; a worker that dies
// (SIGKILL, power) stops renewing, and another worker's stalled check puts the job back in the
// queue. Two jobs are held at once so that the next image is read and decoded while the current
// one is answered; the model's work itself runs one job at a time.
import { Worker, type Job } from 'bullmq';
import { SerialQueue } from '../../serial-queue.js';
import {
  answerImage, preprocessBytes, readImageFile, sha256Hex, type BatchModel, type ErrorInfo, type QuestionResult,
} from '../image-work.js';
import type { QueueConnection } from './connection.js';
import { JOB_VERSION, parseJobData, type BatchJobData, type BatchJobResult } from './job-data.js';
import { KEY_PREFIX, QUEUE_NAME, workerId } from './names.js';

export interface BatchWorkerOptions {
  connection: QueueConnection;
  /**
   * How long a job stays locked without a renewal before another worker may take it back; also
   * the interval of this worker's checks for such jobs (default 30 s).
   */
  lockDurationMs?: number;
  /** Jobs held at once (default 2: one answered, the next one decoded). */
  concurrency?: number;
  /** One line per job started and finished (and errors). */
  onLog?: (line: string) => void;
}

export interface BatchWorker {
  /** Takes no new job and resolves once the jobs held now are finished and returned. */
  close(): Promise<void>;
  /** Stops the jobs held now; they go back to the queue for another attempt. */
  abortJobs(): void;
  readonly id: string;
}

async function imageBytes(data: BatchJobData): Promise<{ bytes: Buffer } | { error: ErrorInfo }> {
  if (data.content !== undefined) return { bytes: Buffer.from(data.content, 'base64') };
  const read = await readImageFile(data.path);
  if ('error' in read) return read;
  return { bytes: read.bytes };
}

export async function startBatchWorker(model: BatchModel, options: BatchWorkerOptions): Promise<BatchWorker> {
  const id = workerId();
  const log = options.onLog ?? (() => undefined);
  const lockDuration = options.lockDurationMs ?? 30_000;
  const session = model.createSession({ prefixCacheBytes: 0 });
  const modelTurn = new SerialQueue();

  const processor = async (job: Job, _token?: string, signal?: AbortSignal): Promise<BatchJobResult> => {
    const data = parseJobData(job.data);
    log(`job ${job.id} started (attempt ${job.attemptsMade + 1})`);
    const results: QuestionResult[] = [];
    const fail = (error: ErrorInfo) => {
      for (const question of data.questions) results.push({ question, error });
    };
    const source = await imageBytes(data);
    if ('error' in source) {
      fail(source.error);
    } else if (sha256Hex(source.bytes) !== data.sha256) {
      fail({ code: 'ERR_IO', message: `'${data.path}' is not the file that was queued (its content changed, or the path means another file on this machine)` });
    } else {
      const prepared = await preprocessBytes(model, source.bytes);
      await modelTurn.run(() => answerImage(model, session, prepared, data.questions, {
        maxTokens: data.maxTokens,
        signal,
        onResult: (result) => { results.push(result); },
      }));
    }
    log(`job ${job.id} done`);
    return { v: JOB_VERSION, sha256: data.sha256, worker: id, results };
  };

  const worker = new Worker(QUEUE_NAME, processor, {
    connection: options.connection,
    prefix: KEY_PREFIX,
    concurrency: options.concurrency ?? 2,
    lockDuration,
    stalledInterval: lockDuration,
    // A job whose worker died is retried; one that kills two workers in a row is failed.
    maxStalledCount: 2,
    autorun: false,
  });
  worker.on('failed', (job, error) => log(`job ${job?.id ?? '?'} failed: ${error.message}`));
  worker.on('error', (error) => log(`error: ${error.message}`));
  await worker.waitUntilReady();
  void worker.run().catch((error: unknown) => log(`stopped: ${(error as Error).message}`));
  let closing: Promise<void> | undefined;
  return {
    id,
    close: () => {
      closing ??= worker.close().finally(() => session.dispose());
      return closing;
    },
    abortJobs: () => worker.cancelAllJobs('the worker is stopping'),
  };
}
