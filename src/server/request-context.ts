// Per-request bookkeeping: an AbortSignal that fires when the client goes away before the response
// is complete, and the facts the request log line and metrics report.
import { performance } from 'node:perf_hooks';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { MoondreamError } from '../errors.js';

export interface RequestRecord {
  receivedAt: number;
  /** Route pattern, for metric labels (never the raw URL, whose cardinality is unbounded). */
  route: string;
  signal: AbortSignal;
  imageHash?: string;
  promptTokens?: number;
  cachedTokens?: number;
  completionTokens?: number;
  ttftMs?: number;
  /** When the client disconnected before the response was complete. */
  disconnectedAt?: number;
  /** From the disconnect until the native work had stopped and the session was free. */
  abortMs?: number;
  error?: string;
  /** A generation request (its duration goes into the latency histogram). */
  generation?: boolean;
  /** Settles when the request's native work has stopped (the log line waits for it). */
  work?: Promise<unknown>;
}

declare module 'fastify' {
  interface FastifyRequest {
    moondream: RequestRecord;
  }
}

export function startRecord(request: FastifyRequest, reply: FastifyReply): RequestRecord {
  const controller = new AbortController();
  const record: RequestRecord = {
    receivedAt: performance.now(),
    route: request.routeOptions.url ?? 'unknown',
    signal: controller.signal,
  };
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) {
      record.disconnectedAt = performance.now();
      controller.abort(new MoondreamError('ERR_ABORTED', 'The client disconnected'));
    }
  });
  return record;
}

/** Runs generation work and, when the client had gone, notes how long the work took to stop. */
export function tracked<T>(record: RequestRecord, work: () => Promise<T>): Promise<T> {
  const running = work().finally(() => {
    if (record.disconnectedAt !== undefined) record.abortMs = performance.now() - record.disconnectedAt;
  });
  record.work = running.catch(() => undefined);
  return running;
}
