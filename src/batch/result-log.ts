// The batch's JSONL output: whole lines appended, and an index of what it already holds so that a
// rerun resumes. A line is written with one write() on a file opened for appending, so a crash
// leaves at worst one partial last line, which the next open cuts off (it has no result: that
// work is simply done again). Data reaches the disk at least every SYNC_INTERVAL_MS.
import { createReadStream } from 'node:fs';
import { open, stat, truncate, type FileHandle } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { MoondreamError } from '../errors.js';
import { contentKey, lineKey, type BatchRecord } from './records.js';

const SYNC_INTERVAL_MS = 2000;

/** What the output holds: which lines exist, and the result for each (content, question). */
export class ResultIndex {
  private readonly lines = new Set<string>();
  private readonly byContent = new Map<string, BatchRecord>();

  add(record: BatchRecord): void {
    this.lines.add(lineKey(record.path, record.sha256, record.question));
    // Errors about readable bytes (not an image, too large, ...) repeat for the same bytes, so
    // they are kept for identical files as answers are.
    if (record.sha256 !== undefined && !this.byContent.has(contentKey(record.sha256, record.question))) {
      this.byContent.set(contentKey(record.sha256, record.question), record);
    }
  }

  /** Whether the output has the line for this path, content and question. */
  has(path: string, sha256: string | undefined, question: string): boolean {
    return this.lines.has(lineKey(path, sha256, question));
  }

  /** The first line about these bytes and this question, if any. */
  find(sha256: string, question: string): BatchRecord | undefined {
    return this.byContent.get(contentKey(sha256, question));
  }

  get size(): number {
    return this.lines.size;
  }
}

function checkRecord(value: unknown): value is BatchRecord {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  if (typeof r.path !== 'string' || typeof r.question !== 'string') return false;
  if (r.sha256 !== undefined && typeof r.sha256 !== 'string') return false;
  if ('error' in r) return typeof r.error === 'object' && r.error !== null;
  return typeof r.sha256 === 'string' && typeof r.answer === 'string';
}

/** Cuts a partial last line (from a crash mid-write) off the file; returns its size after. */
async function repairTail(path: string): Promise<number> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    if (size === 0) return 0;
    // Walk back in blocks to the last newline.
    const block = Buffer.alloc(64 * 1024);
    let end = size;
    while (end > 0) {
      const start = Math.max(0, end - block.length);
      const { bytesRead } = await handle.read(block, 0, end - start, start);
      const at = block.subarray(0, bytesRead).lastIndexOf(0x0a);
      if (at >= 0) {
        const keep = start + at + 1;
        if (keep !== size) await truncate(path, keep);
        return keep;
      }
      end = start;
    }
    await truncate(path, 0);
    return 0;
  } finally {
    await handle.close();
  }
}

async function readIndex(path: string, index: ResultIndex): Promise<void> {
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let number = 0;
  for await (const line of lines) {
    number += 1;
    if (line.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      parsed = undefined;
    }
    if (!checkRecord(parsed)) {
      throw new MoondreamError('ERR_IO', `Line ${number} of '${path}' is not a batch result; fix or remove it, or start over without resuming`);
    }
    index.add(parsed);
  }
}

export interface ResultLogOptions {
  /** Keep the file's lines and skip their work (default); false empties the file first. */
  resume: boolean;
}

export class ResultLog {
  private lastSync = Date.now();
  private closed = false;

  private constructor(private readonly handle: FileHandle, readonly path: string, readonly index: ResultIndex) {}

  static async open(path: string, options: ResultLogOptions): Promise<ResultLog> {
    const index = new ResultIndex();
    let exists = true;
    try {
      exists = (await stat(path)).isFile();
    } catch {
      exists = false;
    }
    if (exists && options.resume) {
      if ((await repairTail(path)) > 0) await readIndex(path, index);
    }
    let handle;
    try {
      handle = await open(path, options.resume ? 'a' : 'w');
    } catch (error) {
      throw new MoondreamError('ERR_IO', `Cannot open the output file '${path}': ${(error as Error).message}`, { cause: error });
    }
    return new ResultLog(handle, path, index);
  }

  /** Appends whole lines in one write and adds them to the index. */
  async append(records: readonly BatchRecord[]): Promise<void> {
    if (records.length === 0) return;
    if (this.closed) throw new MoondreamError('ERR_IO', `The output file '${this.path}' is closed`);
    const buffer = Buffer.from(records.map((r) => `${JSON.stringify(r)}\n`).join(''), 'utf8');
    let offset = 0;
    while (offset < buffer.length) {
      const { bytesWritten } = await this.handle.write(buffer, offset, buffer.length - offset);
      offset += bytesWritten;
    }
    for (const record of records) this.index.add(record);
    if (Date.now() - this.lastSync >= SYNC_INTERVAL_MS) await this.sync();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.handle.datasync();
    } finally {
      await this.handle.close();
    }
  }

  private async sync(): Promise<void> {
    this.lastSync = Date.now();
    await this.handle.datasync();
  }
}
