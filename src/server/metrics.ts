// Prometheus metrics in a registry of the server's own (several servers can live in one process).
import { createRequire } from 'node:module';

// Loaded with the first server, not with the package (see create-server.ts).
const requireWhenServing = createRequire(import.meta.url);
const promClient = () => requireWhenServing('prom-client') as typeof import('prom-client');

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160];

export class ServerMetrics {
  private readonly prom = promClient();
  readonly registry = new this.prom.Registry();
  readonly requests = new this.prom.Counter({
    name: 'moondream_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'status'] as const, registers: [this.registry],
  });
  readonly promptTokens = new this.prom.Counter({ name: 'moondream_prompt_tokens_total', help: 'Prompt positions (image rows included)', registers: [this.registry] });
  readonly cachedPromptTokens = new this.prom.Counter({
    name: 'moondream_prompt_tokens_cached_total', help: 'Prompt positions taken from a kept image prefix', registers: [this.registry],
  });
  readonly generatedTokens = new this.prom.Counter({ name: 'moondream_generated_tokens_total', help: 'Generated tokens', registers: [this.registry] });
  readonly prefixHits = new this.prom.Counter({ name: 'moondream_prefix_cache_hits_total', help: 'Answers whose image prefix was reused', registers: [this.registry] });
  readonly prefixMisses = new this.prom.Counter({ name: 'moondream_prefix_cache_misses_total', help: 'Answers that prefilled their image prefix', registers: [this.registry] });
  readonly imageCacheHits = new this.prom.Counter({ name: 'moondream_image_cache_hits_total', help: 'Images found already encoded (by content hash)', registers: [this.registry] });
  readonly imageCacheMisses = new this.prom.Counter({ name: 'moondream_image_cache_misses_total', help: 'Images encoded by the vision tower', registers: [this.registry] });
  readonly queueDepth = new this.prom.Gauge({ name: 'moondream_queue_depth', help: 'Requests waiting for a session', registers: [this.registry] });
  readonly busySessions = new this.prom.Gauge({ name: 'moondream_busy_sessions', help: 'Sessions running a request', registers: [this.registry] });
  readonly sessions = new this.prom.Gauge({ name: 'moondream_sessions', help: 'Sessions in the pool', registers: [this.registry] });
  readonly timeToFirstToken = new this.prom.Histogram({
    name: 'moondream_time_to_first_token_seconds', help: 'From request arrival to the first answer piece', buckets: LATENCY_BUCKETS, registers: [this.registry],
  });
  readonly requestDuration = new this.prom.Histogram({
    name: 'moondream_request_duration_seconds', help: 'Whole generation requests, arrival to last byte', buckets: LATENCY_BUCKETS, registers: [this.registry],
  });

  constructor() {
    this.prom.collectDefaultMetrics({ register: this.registry });
  }
}
