// md.batch()'s options and progress, validated the way every public option is.
import { invalidArgument } from '../errors.js';
import { optionalFunction, optionalInteger, optionalSignal, optionsObject } from '../options.js';

export interface BatchProgress {
  /** Files found in the inputs. */
  total: number;
  /** Files handled so far (answered, failed or skipped). */
  done: number;
  /** Lines written this run: answers, errors; and (path, question) pairs already in the output. */
  answered: number;
  failed: number;
  skipped: number;
  /** Files whose work was done this run (not skipped) per minute of wall time. */
  imagesPerMinute: number;
  /** Estimated time left at that rate; undefined until the first file has been worked on. */
  etaMs: number | undefined;
  elapsedMs: number;
}

export interface BatchOptions {
  /** Questions asked about every image. */
  questions?: readonly string[];
  /** Also (or only) ask the model's caption question. */
  caption?: boolean;
  /** A JSONL file: results are appended as whole lines, and a rerun skips what it holds. */
  out?: string;
  /** Skip (image, question) pairs the output already answers (default true); false empties it first. */
  resume?: boolean;
  /** New tokens at most per answer (default: the model's). */
  maxTokens?: number;
  /** Files decoded and preprocessed ahead of the one being answered (default 2). */
  lookahead?: number;
  /** Stops within a fraction of a second; the iteration then throws ERR_ABORTED. */
  signal?: AbortSignal;
  /** Called after each file with the run's counters. */
  onProgress?: (progress: BatchProgress) => void;
}

export interface ResolvedBatchOptions {
  inputs: string[];
  questions: string[];
  out: string | undefined;
  resume: boolean;
  maxTokens: number | undefined;
  lookahead: number;
  signal: AbortSignal | undefined;
  onProgress: ((progress: BatchProgress) => void) | undefined;
}

export function batchInputs(value: unknown): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0) throw invalidArgument('inputs', 'a path, folder, glob or list file, or a non-empty array of them', value);
  return list.map((item: unknown, i) => {
    if (typeof item !== 'string' || item.length === 0) throw invalidArgument(`inputs[${i}]`, 'a non-empty string', item);
    return item;
  });
}

/** The questions of a batch, in order and each once: --question's, then the caption question. */
export function batchQuestions(questions: unknown, caption: unknown, captionQuestion: string): string[] {
  if (caption !== undefined && typeof caption !== 'boolean') throw invalidArgument('options.caption', 'a boolean', caption);
  const list: string[] = [];
  if (questions !== undefined) {
    if (!Array.isArray(questions)) throw invalidArgument('options.questions', 'an array of strings', questions);
    questions.forEach((q: unknown, i) => {
      if (typeof q !== 'string' || q.trim() === '') throw invalidArgument(`options.questions[${i}]`, 'a non-empty string', q);
      list.push(q);
    });
  }
  if (caption === true) list.push(captionQuestion);
  if (list.length === 0) throw invalidArgument('options', 'questions or caption: true', 'neither');
  return [...new Set(list)];
}

export function resolveBatchOptions(inputs: unknown, options: unknown, captionQuestion: string): ResolvedBatchOptions {
  const o = optionsObject(options, 'options');
  if (o.out !== undefined && (typeof o.out !== 'string' || o.out.length === 0)) throw invalidArgument('options.out', 'a file path', o.out);
  if (o.resume !== undefined && typeof o.resume !== 'boolean') throw invalidArgument('options.resume', 'a boolean', o.resume);
  return {
    inputs: batchInputs(inputs),
    questions: batchQuestions(o.questions, o.caption, captionQuestion),
    out: o.out as string | undefined,
    resume: (o.resume as boolean | undefined) ?? true,
    maxTokens: optionalInteger(o.maxTokens, 'options.maxTokens', 0, 1 << 20),
    lookahead: optionalInteger(o.lookahead, 'options.lookahead', 0, 64) ?? 2,
    signal: optionalSignal(o.signal, 'options.signal'),
    onProgress: optionalFunction<(progress: BatchProgress) => void>(o.onProgress, 'options.onProgress'),
  };
}
