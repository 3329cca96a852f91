// The work on one image, shared by the one-machine runner and the queue worker: read and hash the
// file, decode and preprocess it (off the compute threads, so it can run ahead), encode it once,
// then answer each question on one session, which keeps the image's prompt prefix between them.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { SessionOptions } from '../api-types.js';
import type { EncodedImage } from '../encoded-image.js';
import { MoondreamError } from '../errors.js';
import type { ImageInput } from '../image.js';
import type { MoondreamSession } from '../session.js';
import type { BatchTimings } from './records.js';

/** What the batch needs of a model (Moondream has it). */
export interface BatchModel {
  createSession(options?: SessionOptions): MoondreamSession;
  preprocess(input: ImageInput): Promise<Float32Array>;
  encodePreprocessed(pixels: Float32Array, options?: { signal?: AbortSignal }): Promise<EncodedImage>;
}

export interface ErrorInfo {
  code: string;
  message: string;
}

export type QuestionResult =
  | { question: string; answer: string; tokens: number; timings: BatchTimings }
  | { question: string; error: ErrorInfo };

export function errorInfo(error: unknown): ErrorInfo {
  if (error instanceof MoondreamError) return { code: error.code, message: error.message };
  return { code: 'ERR_INTERNAL', message: error instanceof Error ? error.message : String(error) };
}

export function isAbort(error: unknown): boolean {
  return error instanceof MoondreamError && error.code === 'ERR_ABORTED';
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export type ReadResult = { bytes: Buffer; sha256: string } | { error: ErrorInfo };

export async function readImageFile(path: string): Promise<ReadResult> {
  try {
    const bytes = await readFile(path);
    return { bytes, sha256: sha256Hex(bytes) };
  } catch (error) {
    return { error: { code: 'ERR_IO', message: `Cannot read '${path}': ${(error as Error).message}` } };
  }
}

export type Preprocessed = { pixels: Float32Array; preprocessMs: number } | { error: ErrorInfo };

/** Decodes (by content: any format sharp reads) and preprocesses; failures are values. */
export async function preprocessBytes(model: BatchModel, bytes: Buffer): Promise<Preprocessed> {
  const start = performance.now();
  try {
    const pixels = await model.preprocess(bytes);
    return { pixels, preprocessMs: performance.now() - start };
  } catch (error) {
    if (isAbort(error)) throw error;
    return { error: errorInfo(error) };
  }
}

export interface AnswerImageOptions {
  maxTokens: number | undefined;
  signal: AbortSignal | undefined;
  /** Called with each question's result as soon as it is known. */
  onResult(result: QuestionResult): Promise<void> | void;
}

/**
 * Encodes the image once and answers `questions` in order on `session`. Failures become results
 * (the whole image's when the encode fails); only an abort throws.
 */
export async function answerImage(
  model: BatchModel, session: MoondreamSession, prepared: Preprocessed, questions: readonly string[], options: AnswerImageOptions,
): Promise<void> {
  if ('error' in prepared) {
    for (const question of questions) await options.onResult({ question, error: prepared.error });
    return;
  }
  const signal = options.signal;
  let image: EncodedImage;
  try {
    image = await model.encodePreprocessed(prepared.pixels, signal ? { signal } : {});
  } catch (error) {
    if (isAbort(error)) throw error;
    for (const question of questions) await options.onResult({ question, error: errorInfo(error) });
    return;
  }
  let first = true;
  for (const question of questions) {
    try {
      const answer = await session.answer(image, question, {
        ...(options.maxTokens !== undefined ? { maxTokens: options.maxTokens } : {}),
        ...(signal ? { signal } : {}),
      });
      await options.onResult({
        question,
        answer: answer.text,
        tokens: answer.tokens.length,
        timings: {
          // The decode and encode belong to the image: counted on its first answer only.
          preprocessMs: first ? prepared.preprocessMs : 0,
          encodeMs: first ? image.timings.encodeMs : 0,
          prefillMs: answer.timings.prefillMs,
          decodeMs: answer.timings.decodeMs,
          tokensPerSecond: answer.timings.tokensPerSecond,
          reusedPositions: answer.timings.reusedPositions,
        },
      });
      first = false;
    } catch (error) {
      if (isAbort(error)) throw error;
      await options.onResult({ question, error: errorInfo(error) });
    }
  }
}
