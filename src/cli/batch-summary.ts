import { formatSummary, type BatchSummary } from '../batch/progress.js';

/** The summary at the end of a batch: a line on stderr, or JSON on stdout with --json. */
export function printSummary(summary: BatchSummary, json: boolean): void {
  if (json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else process.stderr.write(`${formatSummary(summary)}\n`);
}
