// The lines of a batch's JSONL output, one per (image path, question), and the keys that resume
// and deduplication use. A line is a result or an error, never both.

export interface BatchTimings {
  /** Reading, decoding and preprocessing the file (0 on the image's later questions). */
  preprocessMs: number;
  /** The vision encoder (0 on the image's later questions, which reuse the encoding). */
  encodeMs: number;
  prefillMs: number;
  decodeMs: number;
  tokensPerSecond: number;
  /** Prompt positions taken from the image's kept prefix instead of prefilled again. */
  reusedPositions: number;
}

export interface BatchAnswerRecord {
  path: string;
  /** sha256 of the file's bytes, hex. */
  sha256: string;
  question: string;
  answer: string;
  /** Generated tokens, the stop token included. */
  tokens: number;
  /** Empty when the answer was copied from an identical file (see duplicateOf). */
  timings: BatchTimings | Record<string, never>;
  /** The path whose answer this line copies: the same bytes were answered under that path. */
  duplicateOf?: string;
}

export interface BatchErrorRecord {
  path: string;
  /** Absent when the file could not be read at all. */
  sha256?: string;
  question: string;
  error: { code: string; message: string };
}

export type BatchRecord = BatchAnswerRecord | BatchErrorRecord;

export function isErrorRecord(record: BatchRecord): record is BatchErrorRecord {
  return 'error' in record;
}

/** One output line per (path, content, question): a rerun writes none of these twice. */
export function lineKey(path: string, sha256: string | undefined, question: string): string {
  return `${path}\u0000${sha256 ?? ''}\u0000${question}`;
}

/** The work itself: the same bytes with the same question are answered once. */
export function contentKey(sha256: string, question: string): string {
  return `${sha256}\u0000${question}`;
}

/** The line for `path` that reuses an earlier line's answer or error about the same bytes. */
export function copyRecord(source: BatchRecord, path: string): BatchRecord {
  if (isErrorRecord(source)) return { ...source, path };
  return { path, sha256: source.sha256, question: source.question, answer: source.answer, tokens: source.tokens, timings: {}, duplicateOf: source.duplicateOf ?? source.path };
}
