// A batch's counters: how far it is, how fast it goes (over the files actually worked on, so
// skipped files of a resumed run do not inflate the rate) and the summary at the end.
import { performance } from 'node:perf_hooks';
import type { BatchProgress } from './options.js';

export interface BatchSummary {
  images: number;
  answered: number;
  failed: number;
  skipped: number;
  wallMs: number;
  imagesPerMinute: number;
  /** True when the run was stopped (Ctrl-C, abort) before the end. */
  interrupted: boolean;
}

export class BatchCounters {
  private readonly started = performance.now();
  private worked = 0;
  done = 0;
  answered = 0;
  failed = 0;
  skipped = 0;

  constructor(public total: number) {}

  /** A file is finished; `worked` when something was computed for it (not only skipped or copied). */
  fileDone(worked: boolean): void {
    this.done += 1;
    if (worked) this.worked += 1;
  }

  progress(): BatchProgress {
    const elapsedMs = performance.now() - this.started;
    const imagesPerMinute = elapsedMs > 0 ? (this.worked * 60_000) / elapsedMs : 0;
    const left = Math.max(0, this.total - this.done);
    return {
      total: this.total,
      done: this.done,
      answered: this.answered,
      failed: this.failed,
      skipped: this.skipped,
      imagesPerMinute,
      etaMs: this.worked > 0 ? (left * 60_000) / imagesPerMinute : undefined,
      elapsedMs,
    };
  }

  summary(interrupted: boolean): BatchSummary {
    const p = this.progress();
    return {
      images: this.total, answered: this.answered, failed: this.failed, skipped: this.skipped,
      wallMs: p.elapsedMs, imagesPerMinute: p.imagesPerMinute, interrupted,
    };
  }
}

/** The summary as a person reads it. */
export function formatSummary(s: BatchSummary): string {
  const seconds = (s.wallMs / 1000).toFixed(1);
  return `${s.interrupted ? 'interrupted' : 'done'}: ${s.answered} answered, ${s.failed} failed, ${s.skipped} skipped ` +
    `(${s.images} files) in ${seconds} s, ${s.imagesPerMinute.toFixed(1)} images/min`;
}
