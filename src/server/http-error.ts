// Errors that carry their HTTP status, and the mapping from everything else that can go wrong
// (MoondreamError codes, fastify's parser and validation errors, the pool) onto a status.
import { MoondreamError } from '../errors.js';
import { PoolClosedError, QueueFullError } from './session-pool.js';

/** OpenAI's error `type` vocabulary; Ollama bodies carry only the message. */
export type ErrorType = 'invalid_request_error' | 'authentication_error' | 'not_found_error' | 'server_error' | 'unavailable_error';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: ErrorType = status >= 500 ? 'server_error' : 'invalid_request_error',
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export function badRequest(message: string, param: string | null = null, code: string | null = null): HttpError {
  return new HttpError(400, message, 'invalid_request_error', param, code);
}

interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  message: string;
  validation?: unknown;
}

export function toHttpError(error: unknown, retryAfterSeconds: number): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof QueueFullError) {
    return new HttpError(503, error.message, 'unavailable_error', null, 'queue_full', { 'retry-after': String(retryAfterSeconds) });
  }
  if (error instanceof PoolClosedError) {
    return new HttpError(503, error.message, 'unavailable_error', null, 'shutting_down', { 'retry-after': String(retryAfterSeconds) });
  }
  if (error instanceof MoondreamError) {
    switch (error.code) {
      case 'ERR_INVALID_ARGUMENT':
      case 'ERR_IMAGE_DECODE':
      case 'ERR_CONTEXT_OVERFLOW':
        return new HttpError(400, error.message, 'invalid_request_error', null, error.code);
      case 'ERR_IO':
        return new HttpError(400, error.message, 'invalid_request_error', null, error.code);
      case 'ERR_ABORTED':
        // 499 (client closed request, nginx's convention): only ever seen in logs.
        return new HttpError(499, error.message, 'invalid_request_error', null, error.code);
      default:
        return new HttpError(500, error.message, 'server_error', null, error.code);
    }
  }
  const e = error as FastifyLikeError;
  if (e && typeof e === 'object' && typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 600) {
    const message = e.code === 'FST_ERR_CTP_INVALID_JSON' || e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY'
      ? `The request body is not valid JSON: ${e.message}`
      : e.message;
    return new HttpError(e.statusCode, message, e.statusCode >= 500 ? 'server_error' : 'invalid_request_error', null, e.code ?? null);
  }
  return new HttpError(500, error instanceof Error ? error.message : String(error), 'server_error');
}

/** The body for an error: Ollama's `{ error }` on /api/*, OpenAI's otherwise (llama-server does the same). */
export function errorBody(url: string, error: HttpError): unknown {
  if (url.startsWith('/api/')) return { error: error.message };
  return { error: { message: error.message, type: error.type, param: error.param, code: error.code ?? error.status } };
}
