// Prometheus metrics in a registry of the server's own (several servers can live in one process).
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160];

export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'moondream_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'status'] as const, registers: [this.registry],
  });
  readonly promptTokens = new Counter({ name: 'moondream_prompt_tokens_total', help: 'Prompt positions (image rows included)', registers: [this.registry] });
  readonly cachedPromptTokens = new Counter({
    name: 'moondream_prompt_tokens_cached_total', help: 'Prompt positions taken from a kept image prefix', registers: [this.registry],
  });
  readonly generatedTokens = new Counter({ name: 'moondream_generated_tokens_total', help: 'Generated tokens', registers: [this.registry] });
  readonly prefixHits = new Counter({ name: 'moondream_prefix_cache_hits_total', help: 'Answers whose image prefix was reused', registers: [this.registry] });
  readonly prefixMisses = new Counter({ name: 'moondream_prefix_cache_misses_total', help: 'Answers that prefilled their image prefix', registers: [this.registry] });
  readonly imageCacheHits = new Counter({ name: 'moondream_image_cache_hits_total', help: 'Images found already encoded (by content hash)', registers: [this.registry] });
  readonly imageCacheMisses = new Counter({ name: 'moondream_image_cache_misses_total', help: 'Images encoded by the vision tower', registers: [this.registry] });
  readonly queueDepth = new Gauge({ name: 'moondream_queue_depth', help: 'Requests waiting for a session', registers: [this.registry] });
  readonly busySessions = new Gauge({ name: 'moondream_busy_sessions', help: 'Sessions running a request', registers: [this.registry] });
  readonly sessions = new Gauge({ name: 'moondream_sessions', help: 'Sessions in the pool', registers: [this.registry] });
  readonly timeToFirstToken = new Histogram({
    name: 'moondream_time_to_first_token_seconds', help: 'From request arrival to the first answer piece', buckets: LATENCY_BUCKETS, registers: [this.registry],
  });
  readonly requestDuration = new Histogram({
    name: 'moondream_request_duration_seconds', help: 'Whole generation requests, arrival to last byte', buckets: LATENCY_BUCKETS, registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
