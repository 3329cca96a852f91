// One generation request, independent of wire format: wait for a session, find or encode the
// image, answer with moondream1's prompt, apply stop strings, and count everything in metrics.
import { performance } from 'node:perf_hooks';
import { MoondreamError } from '../errors.js';
import type { ModelInfo } from '../model-info.js';
import type { ChatTurn } from '../prompt.js';
import type { Answer } from '../api-types.js';
import type { ImageCache } from './image-cache.js';
import type { ServerMetrics } from './metrics.js';
import type { SessionPool } from './session-pool.js';
import { StopStrings } from './stop-strings.js';

export interface GenerationRequest {
  imageBytes: Buffer;
  imageHash: string;
  question: string;
  history: readonly ChatTurn[];
  maxTokens?: number | undefined;
  temperature?: number | undefined;
  topP?: number | undefined;
  topK?: number | undefined;
  seed?: number | undefined;
  stop?: readonly string[] | undefined;
  signal: AbortSignal;
  /** Text as it becomes certain (after stop strings). */
  onPiece?: ((piece: string) => void) | undefined;
  /** performance.now() when the request arrived. */
  receivedAt: number;
}

export type FinishReason = 'stop' | 'length';

export interface GenerationResult {
  text: string;
  finishReason: FinishReason;
  promptTokens: number;
  /** Prompt positions that came from a kept image prefix. */
  cachedTokens: number;
  completionTokens: number;
  imageCached: boolean;
  timings: { queueMs: number; encodeMs: number; prefillMs: number; decodeMs: number; ttftMs: number; totalMs: number };
}

export interface EngineOptions {
  info: ModelInfo;
  pool: SessionPool;
  images: ImageCache;
  metrics: ServerMetrics;
  maxImagePixels: number;
  countTokens: (text: string) => number;
}

export class Engine {
  constructor(private readonly o: EngineOptions) {}

  get info(): ModelInfo {
    return this.o.info;
  }

  async generate(request: GenerationRequest): Promise<GenerationResult> {
    const { pool, images, metrics } = this.o;
    const lease = await pool.acquire(request.imageHash, request.signal);
    const leased = performance.now();
    let succeeded = false;
    try {
      const encodeStart = performance.now();
      const { image, cached } = await images.get(request.imageHash,
        () => lease.session.encodeImage(request.imageBytes, { signal: request.signal, maxPixels: this.o.maxImagePixels }), request.signal);
      (cached ? metrics.imageCacheHits : metrics.imageCacheMisses).inc();
      const encodeMs = cached ? 0 : performance.now() - encodeStart;

      const stops = new StopStrings(request.stop ?? []);
      const inner = new AbortController();
      const onOuterAbort = () => inner.abort();
      request.signal.addEventListener('abort', onOuterAbort, { once: true });
      let firstPieceAt: number | undefined;
      let raw = '';
      let answer: Answer | undefined;
      try {
        answer = await lease.session.answer(image, request.question, {
          history: request.history,
          signal: inner.signal,
          ...(request.maxTokens !== undefined ? { maxTokens: request.maxTokens } : {}),
          ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
          ...(request.topP !== undefined ? { topP: request.topP } : {}),
          ...(request.topK !== undefined ? { topK: request.topK } : {}),
          ...(request.seed !== undefined ? { seed: request.seed } : {}),
          onPiece: (piece) => {
            firstPieceAt ??= performance.now();
            raw += piece;
            const out = stops.push(piece);
            if (out) request.onPiece?.(out);
            if (stops.hasStopped) inner.abort();
          },
        });
      } catch (error) {
        // A stop string ended generation through the abort flag: that is a normal finish.
        if (!(stops.hasStopped && !request.signal.aborted && error instanceof MoondreamError && error.code === 'ERR_ABORTED')) throw error;
      } finally {
        request.signal.removeEventListener('abort', onOuterAbort);
      }
      const tail = stops.flush();
      if (tail) request.onPiece?.(tail);

      const end = performance.now();
      const ttftMs = (firstPieceAt ?? end) - request.receivedAt;
      let result: GenerationResult;
      if (answer && !stops.hasStopped) {
        const last = answer.tokens[answer.tokens.length - 1];
        result = {
          text: answer.text,
          finishReason: last !== undefined && this.o.info.prompt.stopTokenIds.includes(last) ? 'stop' : 'length',
          promptTokens: answer.timings.promptPositions,
          cachedTokens: answer.timings.reusedPositions,
          completionTokens: answer.tokens.length,
          imageCached: cached,
          timings: {
            queueMs: leased - request.receivedAt, encodeMs, prefillMs: answer.timings.prefillMs, decodeMs: answer.timings.decodeMs, ttftMs, totalMs: end - request.receivedAt,
          },
        };
      } else {
        // Cut by a stop string: the native call was aborted, so its counts are estimates.
        const text = cutAtStop(raw, request.stop ?? []);
        result = {
          text,
          finishReason: 'stop',
          promptTokens: answer?.timings.promptPositions ?? image.rows,
          cachedTokens: answer?.timings.reusedPositions ?? 0,
          completionTokens: this.o.countTokens(text),
          imageCached: cached,
          timings: { queueMs: leased - request.receivedAt, encodeMs, prefillMs: 0, decodeMs: 0, ttftMs, totalMs: end - request.receivedAt },
        };
      }
      metrics.promptTokens.inc(result.promptTokens);
      metrics.cachedPromptTokens.inc(result.cachedTokens);
      metrics.generatedTokens.inc(result.completionTokens);
      (result.cachedTokens > 0 ? metrics.prefixHits : metrics.prefixMisses).inc();
      metrics.timeToFirstToken.observe(ttftMs / 1000);
      succeeded = true;
      return result;
    } finally {
      lease.release(succeeded ? request.imageHash : undefined);
    }
  }
}

function cutAtStop(text: string, stops: readonly string[]): string {
  let cut = text.length;
  for (const stop of stops) {
    const at = text.indexOf(stop);
    if (at >= 0 && at < cut) cut = at;
  }
  return text.slice(0, cut);
}
