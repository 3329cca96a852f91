// One line per request: text for people, JSON (--log-format json) for log pipelines.
import { performance } from 'node:perf_hooks';
import type { RequestRecord } from './request-context.js';

export function requestLogLine(format: 'text' | 'json', method: string, url: string, status: number, record: RequestRecord): string {
  const fields = {
    time: new Date().toISOString(),
    method,
    path: url.split('?')[0],
    status,
    ms: Math.round(performance.now() - record.receivedAt),
    ...(record.imageHash !== undefined ? { image: record.imageHash } : {}),
    ...(record.promptTokens !== undefined ? { prompt_tokens: record.promptTokens, cached_tokens: record.cachedTokens, completion_tokens: record.completionTokens } : {}),
    ...(record.ttftMs !== undefined ? { ttft_ms: Math.round(record.ttftMs) } : {}),
    ...(record.disconnectedAt !== undefined ? { client_disconnected: true } : {}),
    ...(record.abortMs !== undefined ? { abort_ms: Math.round(record.abortMs * 10) / 10 } : {}),
    ...(record.error !== undefined ? { error: record.error } : {}),
  };
  if (format === 'json') return JSON.stringify(fields);
  const extras = Object.entries(fields).filter(([k]) => !['time', 'method', 'path', 'status', 'ms'].includes(k))
    .map(([k, v]) => `${k}=${k === 'image' ? String(v).slice(0, 12) : k === 'error' ? JSON.stringify(v) : String(v)}`);
  return [fields.time, method, fields.path, status, `${fields.ms}ms`, ...extras].join(' ');
}
