// Scheduling, disconnects, auth, metrics and logs of the server on the tiny model (in process).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer, type Moondream } from '../../src/index.js';
import { tinyPair } from '../helpers/tiny-model.js';
import { chatBody, metrics, metricValue, postChat, sseEvents, startTinyServer, tinyModel } from '../helpers/tiny-server.js';

let md: Moondream;
before(async () => { md = await tinyModel(); });
after(() => md.dispose());

/** Opens a streaming request and resolves once its first content chunk has arrived. */
async function streaming(url: string, question: string, maxTokens = 1200) {
  const controller = new AbortController();
  const response = await postChat(url, chatBody(question, undefined, { stream: true, max_tokens: maxTokens }), { signal: controller.signal });
  assert.equal(response.status, 200);
  const events = sseEvents(response);
  await events.next();
  return { controller, events, response };
}

describe('scheduling', () => {
  it('queues up to --max-queue, answers 503 with Retry-After beyond it, and frees a session within 200 ms of a disconnect', async () => {
    const logs: Record<string, unknown>[] = [];
    const t = await startTinyServer({ parallel: 1, maxQueue: 1, logFormat: 'json', log: (l) => { if (l.startsWith('{')) logs.push(JSON.parse(l)); } }, md);
    try {
      const running = await streaming(t.url, 'Long?');
      const queued = postChat(t.url, chatBody('Short?', undefined, { max_tokens: 3 }));
      while (metricValue(await metrics(t.url), 'moondream_queue_depth') !== 1) await sleep(10);
      const refused = await postChat(t.url, chatBody('Third?', undefined, { max_tokens: 3 }));
      assert.equal(refused.status, 503);
      assert.equal(refused.headers.get('retry-after'), '1');
      const body = await refused.json() as { error: { type: string; message: string } };
      assert.equal(body.error.type, 'unavailable_error');
      assert.match(body.error.message, /queue is full/);

      running.controller.abort();
      const second = await queued;
      assert.equal(second.status, 200);
      assert.equal(((await second.json()) as { choices: unknown[] }).choices.length, 1);
      await sleep(50);
      const aborted = logs.find((l) => l.client_disconnected === true);
      assert.ok(aborted, JSON.stringify(logs));
      assert.ok(typeof aborted.abort_ms === 'number' && aborted.abort_ms < 200, `abort took ${String(aborted.abort_ms)} ms`);
      assert.equal(aborted.status, 200);  // headers were out: the stream was cut
      const m = await metrics(t.url);
      assert.equal(metricValue(m, 'moondream_busy_sessions'), 0);
      assert.equal(metricValue(m, 'moondream_queue_depth'), 0);
      assert.equal(metricValue(m, 'moondream_requests_total{route="/v1/chat/completions",status="503"}'), 1);
    } finally {
      await t.close();
    }
  });

  it('drops a queued request whose client leaves, without running it', async () => {
    const t = await startTinyServer({ parallel: 1, maxQueue: 4 }, md);
    try {
      const running = await streaming(t.url, 'Long?');
      const leaving = new AbortController();
      const queued = postChat(t.url, chatBody('Never?', undefined, { max_tokens: 3 }), { signal: leaving.signal }).catch((e: unknown) => e);
      while (metricValue(await metrics(t.url), 'moondream_queue_depth') !== 1) await sleep(10);
      leaving.abort();
      assert.ok((await queued) instanceof Error);
      while (metricValue(await metrics(t.url), 'moondream_queue_depth') !== 0) await sleep(10);
      running.controller.abort();
      while (metricValue(await metrics(t.url), 'moondream_busy_sessions') !== 0) await sleep(10);
      const m = await metrics(t.url);
      // Only the running request reached the model: one image encode, no second answer.
      assert.equal(metricValue(m, 'moondream_generated_tokens_total'), 0);
      assert.equal(metricValue(m, 'moondream_requests_total{route="/v1/chat/completions",status="499"}'), 1);
    } finally {
      await t.close();
    }
  });
});

describe('metrics and the image hash', () => {
  it('counts requests, tokens, prefix hits and latencies exactly', async () => {
    const t = await startTinyServer({}, md);
    try {
      const usages: { prompt_tokens: number; completion_tokens: number; prompt_tokens_details: { cached_tokens: number } }[] = [];
      for (const question of ['One?', 'Two?']) {
        const r = await postChat(t.url, chatBody(question, 'grey_240x180.png', { max_tokens: 4 }));
        assert.equal(r.status, 200);
        usages.push(((await r.json()) as { usage: (typeof usages)[number] }).usage);
      }
      const m = await metrics(t.url);
      assert.equal(metricValue(m, 'moondream_requests_total{route="/v1/chat/completions",status="200"}'), 2);
      assert.equal(metricValue(m, 'moondream_prompt_tokens_total'), usages[0]!.prompt_tokens + usages[1]!.prompt_tokens);
      assert.equal(metricValue(m, 'moondream_generated_tokens_total'), usages[0]!.completion_tokens + usages[1]!.completion_tokens);
      assert.equal(metricValue(m, 'moondream_image_cache_misses_total'), 1);
      assert.equal(metricValue(m, 'moondream_image_cache_hits_total'), 1);
      assert.equal(usages[1]!.prompt_tokens_details.cached_tokens, 733);
      assert.equal(metricValue(m, 'moondream_prefix_cache_hits_total'), 1);
      assert.equal(metricValue(m, 'moondream_time_to_first_token_seconds_count'), 2);
      assert.equal(metricValue(m, 'moondream_request_duration_seconds_count'), 2);
      assert.ok((metricValue(m, 'process_resident_memory_bytes') ?? 0) > 1e6);
    } finally {
      await t.close();
    }
  });
});

describe('auth', () => {
  it('needs the bearer key on every route but /health, and answers 401 in each API\'s error shape', async () => {
    const t = await startTinyServer({ apiKey: 'sekret-key' }, md);
    try {
      assert.equal((await fetch(`${t.url}/health`)).status, 200);
      const none = await fetch(`${t.url}/v1/models`);
      assert.equal(none.status, 401);
      assert.equal(((await none.json()) as { error: { code: string } }).error.code, 'invalid_api_key');
      assert.equal((await fetch(`${t.url}/v1/models`, { headers: { authorization: 'Bearer sekret-kez' } })).status, 401);
      assert.equal((await fetch(`${t.url}/metrics`, { headers: { authorization: 'Bearer sekret-key-and-more' } })).status, 401);
      const ollama = await fetch(`${t.url}/api/tags`);
      assert.equal(ollama.status, 401);
      assert.deepEqual(await ollama.json(), { error: 'Missing API key: send Authorization: Bearer <key>' });
      assert.equal((await fetch(`${t.url}/v1/models`, { headers: { authorization: 'Bearer sekret-key' } })).status, 200);
      assert.equal((await fetch(`${t.url}/nowhere`)).status, 401);
    } finally {
      await t.close();
    }
  });
});

describe('lifecycle', () => {
  it('answers /health 503 while the model loads, then 200; close() lets a running request finish', async () => {
    const pair = await tinyPair('q8_0', 'f16');
    const lines: string[] = [];
    const server = createServer({ model: { text: pair.textPath, mmproj: pair.mmprojPath }, threads: 2, port: 0, log: (l) => lines.push(l) });
    const url = await server.listen();
    const early = await fetch(`${url}/health`);
    assert.equal(early.status, 503);
    assert.deepEqual(await early.json(), { error: { code: 503, message: 'Loading model', type: 'unavailable_error' } });
    await server.loaded;
    assert.deepEqual(await (await fetch(`${url}/health`)).json(), { status: 'ok' });

    const running = await streaming(url, 'Until the end?', 40);
    const closed = server.close();
    const events: unknown[] = [];
    for await (const event of running.events) events.push(event);
    assert.equal(events.at(-1), '[DONE]');
    await closed;
    await assert.rejects(fetch(`${url}/health`));
    const line = lines.find((l) => l.includes('POST /v1/chat/completions 200'));
    assert.ok(line && /prompt_tokens=749 cached_tokens=0 completion_tokens=40/.test(line), lines.join('\n'));
  });
});
