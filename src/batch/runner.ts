// One machine's batch: files in input order; the next `lookahead` files are read, hashed,
// decoded and preprocessed while the current one is encoded and answered. Each result is appended
// to the output as a whole line as soon as it is known, so an interruption loses at most the
// answer being generated.
import { abortedError } from '../abort.js';
import type { MoondreamSession } from '../session.js';
import {
  answerImage, isAbort, preprocessBytes, readImageFile, type BatchModel, type ErrorInfo, type Preprocessed, type QuestionResult,
} from './image-work.js';
import { collectInputs, type InputEntry } from './inputs.js';
import type { ResolvedBatchOptions } from './options.js';
import { BatchCounters, type BatchSummary } from './progress.js';
import { contentKey, copyRecord, isErrorRecord, type BatchRecord } from './records.js';
import { ResultIndex, ResultLog } from './result-log.js';

/** A file read and hashed, and (when its answers must be computed) preprocessed. */
interface PreparedFile {
  entry: InputEntry;
  read: { sha256: string; bytes: Buffer } | { error: ErrorInfo };
  preprocessed: Promise<Preprocessed> | undefined;
}

interface Run {
  model: BatchModel;
  options: ResolvedBatchOptions;
  index: ResultIndex;
  log: ResultLog | undefined;
  counters: BatchCounters;
  /** (content, question) pairs an earlier file of this run will answer: no need to decode again. */
  planned: Set<string>;
}

async function prepare(run: Run, entry: InputEntry): Promise<PreparedFile> {
  if (entry.error) return { entry, read: { error: entry.error }, preprocessed: undefined };
  const read = await readImageFile(entry.path);
  if ('error' in read) return { entry, read, preprocessed: undefined };
  const { questions } = run.options;
  const needed = questions.filter((q) => !run.index.has(entry.path, read.sha256, q) && !run.index.find(read.sha256, q) &&
    !run.planned.has(contentKey(read.sha256, q)));
  for (const q of needed) run.planned.add(contentKey(read.sha256, q));
  const preprocessed = needed.length > 0 ? preprocessBytes(run.model, read.bytes) : undefined;
  preprocessed?.catch(() => undefined);  // awaited later, or dropped when the run stops first
  return { entry, read, preprocessed };
}

async function emit(run: Run, record: BatchRecord): Promise<void> {
  if (run.log) await run.log.append([record]);
  else run.index.add(record);
  if (isErrorRecord(record)) run.counters.failed += 1;
  else run.counters.answered += 1;
}

/** Handles one prepared file; yields its new lines in question order. */
async function* handle(run: Run, session: MoondreamSession, file: PreparedFile): AsyncGenerator<BatchRecord> {
  const { questions, maxTokens, signal } = run.options;
  const path = file.entry.path;
  if ('error' in file.read) {
    const error = file.read.error;
    let wrote = false;
    for (const question of questions) {
      if (run.index.has(path, undefined, question)) {
        run.counters.skipped += 1;
        continue;
      }
      const record: BatchRecord = { path, question, error };
      await emit(run, record);
      wrote = true;
      yield record;
    }
    run.counters.fileDone(wrote);
    return;
  }
  const { sha256, bytes } = file.read;
  const todo = questions.filter((q) => !run.index.has(path, sha256, q));
  run.counters.skipped += questions.length - todo.length;
  const compute: string[] = [];
  for (const question of todo) {
    const earlier = run.index.find(sha256, question);
    if (!earlier) {
      compute.push(question);
      continue;
    }
    const record = copyRecord(earlier, path);
    await emit(run, record);
    yield record;
  }
  if (compute.length > 0) {
    // Decoded ahead, unless an identical file was expected to answer these questions first.
    const preprocessed = await (file.preprocessed ?? preprocessBytes(run.model, bytes));
    const results: BatchRecord[] = [];
    await answerImage(run.model, session, preprocessed, compute, {
      maxTokens,
      signal,
      onResult: async (result: QuestionResult) => {
        const record: BatchRecord = 'error' in result
          ? { path, sha256, question: result.question, error: result.error }
          : { path, sha256, question: result.question, answer: result.answer, tokens: result.tokens, timings: result.timings };
        await emit(run, record);
        results.push(record);
      },
    });
    yield* results;
  }
  run.counters.fileDone(compute.length > 0);
}

/**
 * Runs a batch and yields each new output line; returns the summary. Throws ERR_ABORTED when
 * the signal fires (the output stays valid: every line written is whole).
 */
export async function* runBatch(model: BatchModel, options: ResolvedBatchOptions): AsyncGenerator<BatchRecord, BatchSummary, undefined> {
  const { signal, lookahead, onProgress } = options;
  if (signal?.aborted) throw abortedError();
  const entries = await collectInputs(options.inputs, signal);
  const log = options.out === undefined ? undefined : await ResultLog.open(options.out, { resume: options.resume });
  const counters = new BatchCounters(entries.length);
  const run: Run = { model, options, index: log?.index ?? new ResultIndex(), log, counters, planned: new Set() };
  // One image's prompt prefix at a time is all a batch reuses: keep no others.
  const session = model.createSession({ prefixCacheBytes: 0 });
  const ahead: Promise<PreparedFile>[] = [];
  let next = 0;
  const fill = () => {
    while (next < entries.length && ahead.length <= lookahead) {
      const pending = prepare(run, entries[next++]!);
      pending.catch(() => undefined);
      ahead.push(pending);
    }
  };
  try {
    onProgress?.(counters.progress());
    fill();
    while (ahead.length > 0) {
      if (signal?.aborted) throw abortedError();
      const file = await ahead.shift()!;
      fill();
      for await (const record of handle(run, session, file)) yield record;
      onProgress?.(counters.progress());
    }
    return counters.summary(false);
  } catch (error) {
    if (isAbort(error)) onProgress?.(counters.progress());
    throw error;
  } finally {
    session.dispose();
    await log?.close();
  }
}
