// What travels through the queue: a job per distinct image (all its questions, so the worker
// reuses the image's prompt prefix), and the worker's results. Both cross a machine boundary, so
// both are checked when read.
import type { ErrorInfo, QuestionResult } from '../image-work.js';

export const JOB_VERSION = 1;

export interface BatchJobData {
  v: typeof JOB_VERSION;
  /** The batch's name (informative: the job id carries it too). */
  batch: string;
  sha256: string;
  /** Absolute path on the producer's machine: workers read it when no content is sent. */
  path: string;
  /** The file's bytes, base64, when the producer sends images by content. */
  content?: string;
  questions: string[];
  maxTokens?: number;
}

export interface BatchJobResult {
  v: typeof JOB_VERSION;
  sha256: string;
  /** host:pid of the worker that answered. */
  worker: string;
  results: QuestionResult[];
}

const isString = (v: unknown): v is string => typeof v === 'string';

export function parseJobData(value: unknown): BatchJobData {
  const d = value as Partial<BatchJobData> | null;
  const valid = typeof d === 'object' && d !== null && d.v === JOB_VERSION && isString(d.batch) && isString(d.sha256) &&
    /^[0-9a-f]{64}$/.test(d.sha256) && isString(d.path) && (d.content === undefined || isString(d.content)) &&
    Array.isArray(d.questions) && d.questions.length > 0 && d.questions.every(isString) &&
    (d.maxTokens === undefined || (Number.isInteger(d.maxTokens) && d.maxTokens >= 0 && d.maxTokens <= 1 << 20));
  if (!valid) throw new Error(`Not a moondream-ggml batch job (version ${String(d?.v)}); is the worker older than the producer?`);
  return d as BatchJobData;
}

function isErrorInfo(v: unknown): v is ErrorInfo {
  return typeof v === 'object' && v !== null && isString((v as ErrorInfo).code) && isString((v as ErrorInfo).message);
}

function isQuestionResult(v: unknown): v is QuestionResult {
  if (typeof v !== 'object' || v === null || !isString((v as QuestionResult).question)) return false;
  if ('error' in v) return isErrorInfo(v.error);
  const r = v as { answer?: unknown; tokens?: unknown; timings?: unknown };
  return isString(r.answer) && Number.isInteger(r.tokens) && typeof r.timings === 'object' && r.timings !== null;
}

/** The worker's result for `questions`, or undefined when it does not answer exactly those. */
export function parseJobResult(value: unknown, questions: readonly string[]): BatchJobResult | undefined {
  const r = value as Partial<BatchJobResult> | null;
  if (typeof r !== 'object' || r === null || r.v !== JOB_VERSION || !isString(r.sha256) || !isString(r.worker) || !Array.isArray(r.results)) return undefined;
  if (!r.results.every(isQuestionResult)) return undefined;
  const asked = new Set(r.results.map((q) => q.question));
  if (!questions.every((q) => asked.has(q))) return undefined;
  return r as BatchJobResult;
}
