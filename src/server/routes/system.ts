// /health (llama-server's shape: 503 while loading, 200 when ready) and /metrics (Prometheus).
import type { FastifyInstance } from 'fastify';
import type { ServerMetrics } from '../metrics.js';

export type Readiness = { state: 'loading' } | { state: 'ready' } | { state: 'failed'; message: string } | { state: 'closing' };

export function registerSystemRoutes(app: FastifyInstance, readiness: () => Readiness, metrics: ServerMetrics): void {
  app.get('/health', async (_request, reply) => {
    const r = readiness();
    if (r.state === 'ready') return { status: 'ok' };
    const message = r.state === 'loading' ? 'Loading model' : r.state === 'closing' ? 'Shutting down' : `Model failed to load: ${r.message}`;
    return reply.code(503).send({ error: { code: 503, message, type: 'unavailable_error' } });
  });

  app.get('/metrics', async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });
}
