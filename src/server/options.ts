// createServer's options, validated with the package's "Expected X for Y but received Z" messages.
import { invalidArgument } from '../errors.js';
import type { Moondream } from '../moondream.js';
import type { ModelSource } from '../model-files.js';
import { optionalEnum, optionalFunction, optionalInteger, optionsObject } from '../options.js';

export interface ServerOptions {
  /** A model folder, `{ text, mmproj }` paths, or a loaded Moondream (which the server then does not dispose). */
  model: ModelSource | Moondream;
  /** Default 127.0.0.1: only this machine can connect unless told otherwise. */
  host?: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Sessions answering at once. Default: what fits the machine (defaultParallel in serving-session.ts). */
  parallel?: number;
  /** Requests that may wait for a session; beyond it, 503 with Retry-After. Default 64. */
  maxQueue?: number;
  /** Every route but /health then needs `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Compute threads when the server loads the model. */
  threads?: number;
  /** The name in /v1/models and /api/tags (requests may name any model). Default "moondream1". */
  modelName?: string;
  /** Fetch http(s) image URLs (off: callers could make the server fetch arbitrary URLs). */
  allowRemoteImages?: boolean;
  /** file:// image URLs are read from this folder only. Default: file URLs refused. */
  mediaDir?: string;
  /** Largest request body in bytes. Default 20 MiB. */
  bodyLimit?: number;
  /** Largest image (width x height) decoded, checked from its header. Default 50 megapixels. */
  maxImagePixels?: number;
  /** Encoded images kept by content hash. Default 32. */
  imageCacheSize?: number;
  /** On close(), how long running requests may take before they are aborted. Default 30000 ms. */
  shutdownTimeout?: number;
  /** A client must send its request headers within this time (slow-header attacks). Default 10000 ms. */
  headersTimeout?: number;
  /** One line per request, given to `log`: human-readable text (default) or JSON. */
  logFormat?: 'text' | 'json';
  /** Receives log lines (request lines, start-up, shutdown). Default: none. */
  log?: (line: string) => void;
}

export interface ResolvedServerOptions extends Required<Omit<ServerOptions, 'apiKey' | 'threads' | 'mediaDir' | 'log' | 'parallel'>> {
  parallel: number | undefined;
  apiKey: string | undefined;
  threads: number | undefined;
  mediaDir: string | undefined;
  log: ((line: string) => void) | undefined;
}

function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) throw invalidArgument(name, 'a non-empty string', value);
  return value;
}

function optionalBoolean(value: unknown, name: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw invalidArgument(name, 'a boolean', value);
  return value;
}

export function resolveServerOptions(value: unknown): ResolvedServerOptions {
  const o = optionsObject(value, 'options');
  if (o.model === undefined) throw invalidArgument('options.model', 'a model folder, { text, mmproj } or a Moondream', o.model);
  return {
    model: o.model as ServerOptions['model'],
    host: optionalString(o.host, 'options.host') ?? '127.0.0.1',
    port: optionalInteger(o.port, 'options.port', 0, 65535) ?? 8080,
    parallel: optionalInteger(o.parallel, 'options.parallel', 1, 256),
    maxQueue: optionalInteger(o.maxQueue, 'options.maxQueue', 0, 1 << 20) ?? 64,
    apiKey: optionalString(o.apiKey, 'options.apiKey'),
    threads: optionalInteger(o.threads, 'options.threads', 1, 1024),
    modelName: optionalString(o.modelName, 'options.modelName') ?? 'moondream1',
    allowRemoteImages: optionalBoolean(o.allowRemoteImages, 'options.allowRemoteImages') ?? false,
    mediaDir: optionalString(o.mediaDir, 'options.mediaDir'),
    bodyLimit: optionalInteger(o.bodyLimit, 'options.bodyLimit', 1024, 1 << 30) ?? 20 * 1024 * 1024,
    maxImagePixels: optionalInteger(o.maxImagePixels, 'options.maxImagePixels', 1, Number.MAX_SAFE_INTEGER) ?? 50_000_000,
    imageCacheSize: optionalInteger(o.imageCacheSize, 'options.imageCacheSize', 0, 1 << 16) ?? 32,
    shutdownTimeout: optionalInteger(o.shutdownTimeout, 'options.shutdownTimeout', 0, 24 * 3600 * 1000) ?? 30_000,
    headersTimeout: optionalInteger(o.headersTimeout, 'options.headersTimeout', 100, 3600 * 1000) ?? 10_000,
    logFormat: optionalEnum(o.logFormat, 'options.logFormat', ['text', 'json'] as const) ?? 'text',
    log: optionalFunction<(line: string) => void>(o.log, 'options.log'),
  };
}
