// createServer(): fastify with the OpenAI, Ollama and system routes over a pool of sessions.
// The socket listens before the model is loaded so that /health can say 503 while it loads.
import http from 'node:http';
import { createRequire } from 'node:module';
import type { FastifyInstance } from 'fastify';
import { Moondream } from '../moondream.js';
import { bearerChecker } from './auth.js';
import { Engine } from './engine.js';
import { errorBody, HttpError, toHttpError } from './http-error.js';
import { ImageCache } from './image-cache.js';
import { ServerMetrics } from './metrics.js';
import { describeModel } from './model-description.js';
import { resolveServerOptions, type ServerOptions } from './options.js';
import { startRecord } from './request-context.js';
import { requestLogLine } from './request-log.js';
import type { ModelDescription } from './route-context.js';
import { registerOllamaRoutes } from './routes/ollama.js';
import { registerOpenAiRoutes } from './routes/openai.js';
import { registerSystemRoutes, type Readiness } from './routes/system.js';
import { SessionPool } from './session-pool.js';
import { defaultParallel, modelSessionFactory, type ServingSession } from './serving-session.js';

export interface MoondreamServer {
  /** The fastify instance (for inject() in tests, or more routes). */
  readonly app: FastifyInstance;
  /** Resolves when the model is loaded and requests are served; rejects if loading failed. */
  readonly loaded: Promise<void>;
  /** http://host:port once listening. */
  readonly url: string | undefined;
  /** Starts listening (the model loads meanwhile); resolves to the URL. */
  listen(): Promise<string>;
  /**
   * Stops accepting requests, lets running and queued ones finish for up to `shutdownTimeout` ms,
   * aborts the rest, then frees the sessions (and the model, if the server loaded it).
   */
  close(): Promise<void>;
}

/** Routes and the methods they take, to answer a wrong method with 405 rather than 404. */
const KNOWN_ROUTES: Readonly<Record<string, string>> = {
  '/v1/chat/completions': 'POST', '/v1/models': 'GET', '/api/generate': 'POST', '/api/chat': 'POST', '/api/tags': 'GET', '/health': 'GET', '/metrics': 'GET',
};

// fastify is loaded when a server is created, not when the package is imported: every process
// that imports moondream-ggml (the CLI's `ask` included) paid for it, with prom-client about
// 0.11 s of a 0.27 s import.
const requireWhenServing = createRequire(import.meta.url);

/** Seconds a client told "queue full" should wait before retrying. */
const RETRY_AFTER_S = 1;

export function createServer(options: ServerOptions): MoondreamServer {
  const o = resolveServerOptions(options);
  const metrics = new ServerMetrics();
  const checkAuth = o.apiKey === undefined ? undefined : bearerChecker(o.apiKey);
  let readiness: Readiness = { state: 'loading' };
  let engine: Engine | undefined;
  let pool: SessionPool | undefined;
  let description: ModelDescription | undefined;
  let url: string | undefined;

  const loaded = (async () => {
    const md = o.model instanceof Moondream ? o.model : await Moondream.load(o.model, o.threads === undefined ? {} : { threads: o.threads });
    const owned = !(o.model instanceof Moondream);
    try {
      if (!md.info.vision) throw new HttpError(500, 'The model has no mmproj (vision) file, so it cannot answer about images');
      description = await describeModel(md.files, o.modelName);
      const first = md.createSession();
      const parallel = o.parallel ?? defaultParallel(first.info.kvCacheBytes + first.info.computeBytes);
      const newSession = modelSessionFactory(md);
      let spare: ServingSession | undefined = first;
      pool = new SessionPool(() => {
        const session = spare ?? newSession();
        spare = undefined;
        return session;
      }, parallel, o.maxQueue, () => {
        metrics.queueDepth.set(pool?.queued ?? 0);
        metrics.busySessions.set(pool?.busy ?? 0);
      });
      metrics.sessions.set(parallel);
      engine = new Engine({
        info: md.info, pool, images: new ImageCache(o.imageCacheSize), metrics, maxImagePixels: o.maxImagePixels,
        countTokens: (text) => md.tokenize(text).length,
      });
      if (readiness.state === 'loading') readiness = { state: 'ready' };
      return { md, owned };
    } catch (error) {
      if (owned) md.dispose();
      throw error;
    }
  })();
  loaded.catch((error: unknown) => {
    readiness = { state: 'failed', message: error instanceof Error ? error.message : String(error) };
    o.log?.(`moondream-ggml serve: the model failed to load: ${readiness.message}`);
  });

  const Fastify = requireWhenServing('fastify') as typeof import('fastify');
  const app = Fastify({
    logger: false,
    bodyLimit: o.bodyLimit,
    return503OnClosing: true,
    // Schemas validate; they never coerce "12" into 12 or drop fields.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false, allowUnionTypes: true } },
    // Errors before a request exists (slow or malformed headers) still get a JSON error body.
    clientErrorHandler: (error, socket) => {
      if (!socket.writable) return;
      const code = (error as { code?: string }).code;
      const status = code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
      const message = status === 408 ? 'The request headers did not arrive in time' : status === 431 ? 'The request headers are too large' : 'Malformed HTTP request';
      const body = JSON.stringify({ error: { message, type: 'invalid_request_error', param: null, code: status } });
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    },
    serverFactory: (handler) => http.createServer({
      headersTimeout: o.headersTimeout,
      requestTimeout: Math.max(o.headersTimeout, 120_000),
      // Node checks the two timeouts above only this often (default every 30 s).
      connectionsCheckingInterval: Math.min(1000, Math.max(100, Math.floor(o.headersTimeout / 4))),
      keepAliveTimeout: 5000,
    }, handler),
  });

  // JSON whatever the declared type (curl -d sends form-urlencoded), with fastify's safe parser
  // (it refuses __proto__ keys); other types get 415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/json', 'text/plain', 'application/x-www-form-urlencoded'], { parseAs: 'string' },
    app.getDefaultJsonParser('error', 'error'));

  app.decorateRequest('moondream', null as never);
  app.addHook('onRequest', async (request, reply) => {
    const record = startRecord(request, reply);
    request.moondream = record;
    reply.raw.once('close', () => void (record.work ?? Promise.resolve()).then(() => {
      const status = record.disconnectedAt !== undefined && !reply.raw.headersSent ? 499 : reply.raw.statusCode;
      metrics.requests.inc({ route: request.routeOptions.url ?? 'unmatched', status: String(status) });
      if (record.generation) metrics.requestDuration.observe((performance.now() - record.receivedAt) / 1000);
      o.log?.(requestLogLine(o.logFormat, request.method, request.url, status, record));
    }));
    if (checkAuth && request.url.split('?')[0] !== '/health') checkAuth(request.headers.authorization);
    const encoding = request.headers['content-encoding'];
    if (encoding !== undefined && encoding !== 'identity') {
      // Never inflate request bodies: a small gzip body can expand to gigabytes.
      throw new HttpError(415, `Content-Encoding "${encoding}" is not supported; send the body uncompressed`, 'invalid_request_error', null, 'unsupported_encoding');
    }
  });

  app.setErrorHandler((error, request, reply) => {
    const e = toHttpError(error, RETRY_AFTER_S);
    if (request.moondream) request.moondream.error = e.message;
    if (reply.raw.destroyed) return;
    void reply.code(e.status).headers(e.headers).send(errorBody(request.url, e));
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    const allowed = KNOWN_ROUTES[path];
    const e = allowed !== undefined
      ? new HttpError(405, `${request.method} is not allowed on ${path}; use ${allowed}`, 'invalid_request_error', null, 'method_not_allowed', { allow: allowed })
      : new HttpError(404, `No route ${request.method} ${path}`, 'not_found_error', null, 'not_found');
    if (request.moondream) request.moondream.error = e.message;
    void reply.code(e.status).headers(e.headers).send(errorBody(request.url, e));
  });

  const ctx = {
    engine: (): Engine => {
      if (engine && readiness.state === 'ready') return engine;
      if (readiness.state === 'failed') throw new HttpError(503, `The model failed to load: ${readiness.message}`, 'unavailable_error');
      throw new HttpError(503, readiness.state === 'closing' ? 'The server is shutting down' : 'Loading model', 'unavailable_error', null, null,
        { 'retry-after': String(RETRY_AFTER_S) });
    },
    model: (): ModelDescription => {
      if (!description) throw new HttpError(503, 'Loading model', 'unavailable_error', null, null, { 'retry-after': String(RETRY_AFTER_S) });
      return description;
    },
    imagePolicy: { mediaDir: o.mediaDir, allowRemoteImages: o.allowRemoteImages, maxImageBytes: o.bodyLimit, remoteTimeoutMs: 30_000 },
  };
  registerSystemRoutes(app, () => readiness, metrics);
  registerOpenAiRoutes(app, ctx);
  registerOllamaRoutes(app, ctx);

  let closing: Promise<void> | undefined;
  return {
    app,
    loaded: loaded.then(() => undefined),
    get url() {
      return url;
    },
    async listen() {
      const address = await app.listen({ host: o.host, port: o.port });
      url = address;
      o.log?.(`moondream-ggml serve: listening on ${address}`);
      return address;
    },
    close() {
      closing ??= (async () => {
        readiness = { state: 'closing' };
        const deadline = setTimeout(() => {
          o.log?.(`moondream-ggml serve: requests still running after ${o.shutdownTimeout} ms are aborted`);
          pool?.close();
          app.server.closeAllConnections();
        }, o.shutdownTimeout);
        try {
          await app.close();
        } finally {
          clearTimeout(deadline);
        }
        const model = await loaded.catch(() => undefined);
        pool?.dispose();
        if (model?.owned) model.md.dispose();
      })();
      return closing;
    },
  };
}
