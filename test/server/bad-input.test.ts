// Hostile and broken requests against `moondream-ggml serve` (a child process, so that its RSS is
// its own): each gets the right status and an error body, the server keeps serving, its memory
// returns to its level after a storm of clients that leave mid-stream, and SIGTERM lets a
// running request finish before exiting 0.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { spawnServe, type ChildServer } from '../helpers/child-server.js';
import { blackPng } from '../helpers/png.js';
import { chatBody, dataUrl, metrics, metricValue, postChat, sseEvents } from '../helpers/tiny-server.js';

let s: ChildServer;
before(async () => {
  s = await spawnServe(['--headers-timeout', '3', '--max-queue', '128', '--log-format', 'json', '--max-image-pixels', '50000000']);
});
after(() => s.stop('SIGKILL'));

const json = { 'content-type': 'application/json' };
const withImage = (url: string, extra: Record<string, unknown> = {}) => JSON.stringify({
  messages: [{ role: 'user', content: [{ type: 'text', text: 'What?' }, { type: 'image_url', image_url: { url } }] }], max_tokens: 3, ...extra,
});
/**
 * POSTs a body announced as `size` bytes over a raw socket: the server must refuse it by its
 * Content-Length alone. The body is held back for a while after the headers, and then sent (at most
 * its first MiB) only if no answer came: a server that refuses while the client is still sending
 * resets the connection, and a reset discards the response before any client can read it, so a
 * loaded machine could otherwise lose the very answer under test.
 */
function rawPost(path: string, size: number): Promise<Response> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(s.port, '127.0.0.1');
    let got = '';
    socket.on('data', (d) => { got += d.toString(); });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      const status = /^HTTP\/1\.1 (\d{3})/.exec(got)?.[1];
      if (status === undefined) reject(new Error(`the connection closed without an HTTP response (got ${JSON.stringify(got.slice(0, 80))})`));
      else resolve(new Response(got.slice(got.indexOf('\r\n\r\n') + 4), { status: Number(status) }));
    });
    socket.write(`POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${size}\r\n\r\n`);
    const piece = Buffer.alloc(1 << 16, 'x');
    let sent = 0;
    const pump = () => {
      while (got === '' && sent < Math.min(size, 1 << 20) && socket.writable) {
        sent += piece.length;
        if (!socket.write(piece)) return void socket.once('drain', pump);
      }
    };
    setTimeout(pump, 2000).unref();
  });
}
const pngUrl = (png: Buffer) => `data:image/png;base64,${png.toString('base64')}`;

interface Case { name: string; send: () => Promise<Response>; status: number; message: RegExp; ollama?: boolean }

const bomb = blackPng(20000, 20000, 1);
const huge = blackPng(20000, 20000, 8);

const CASES: Case[] = [
  { name: 'malformed JSON', send: () => fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: json, body: '{"messages": [' }), status: 400, message: /not valid JSON/ },
  { name: 'messages of the wrong type', send: () => fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: json, body: '{"messages": "hello"}' }), status: 400, message: /messages must be array/ },
  { name: 'max_tokens as a string', send: () => postChat(s.url, chatBody('Q?', undefined, { max_tokens: '10' })), status: 400, message: /max_tokens must be integer/ },
  { name: 'temperature out of range', send: () => postChat(s.url, chatBody('Q?', undefined, { temperature: 9 })), status: 400, message: /temperature must be <= 2/ },
  { name: 'missing messages', send: () => fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: json, body: '{"model": "m"}' }), status: 400, message: /required property 'messages'/ },
  { name: 'a content part of an unknown type', send: () => postChat(s.url, JSON.stringify({ messages: [{ role: 'user', content: [{ type: 'input_audio' }] }] })), status: 400, message: /takes only "text" and "image_url"/ },
  { name: 'Ollama request without a model', send: () => fetch(`${s.url}/api/generate`, { method: 'POST', headers: json, body: '{"prompt": "hi"}' }), status: 400, message: /required property 'model'/, ollama: true },
  { name: 'a 50 MB body', send: () => rawPost('/v1/chat/completions', 50 * 1024 * 1024), status: 413, message: /too large/ },
  { name: 'a gzip-encoded body', send: () => fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: { ...json, 'content-encoding': 'gzip' }, body: gzipSync(chatBody('Q?')) }), status: 415, message: /Content-Encoding/ },
  { name: 'base64 garbage', send: () => postChat(s.url, withImage('data:image/png;base64,@@not*base64!!')), status: 400, message: /not valid base64/ },
  { name: 'base64 of bytes that are no image', send: () => postChat(s.url, withImage(`data:image/png;base64,${Buffer.from('hello, world, not a png').toString('base64')}`)), status: 400, message: /Could not decode|not supported/ },
  { name: 'a decompression bomb (49 KB PNG of 20000x20000)', send: () => postChat(s.url, withImage(pngUrl(bomb))), status: 400, message: /400000000 pixels, more than the limit/ },
  { name: 'a 20000x20000 image', send: () => postChat(s.url, withImage(pngUrl(huge))), status: 400, message: /20000x20000/ },
  { name: 'a remote image URL (fetching is off)', send: () => postChat(s.url, withImage('http://127.0.0.1:1/x.png')), status: 400, message: /--allow-remote-images/ },
  { name: 'a file URL without --media-dir', send: () => postChat(s.url, withImage('file:///etc/passwd')), status: 400, message: /no --media-dir/ },
  { name: 'an unknown route', send: () => fetch(`${s.url}/v2/everything`), status: 404, message: /No route GET \/v2\/everything/ },
  { name: 'a wrong method', send: () => fetch(`${s.url}/v1/chat/completions`), status: 405, message: /use POST/ },
  { name: 'a wrong method on an Ollama route', send: () => fetch(`${s.url}/api/tags`, { method: 'DELETE' }), status: 405, message: /use GET/, ollama: true },
  { name: 'a form body that is not JSON', send: () => fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=b' }), status: 400, message: /not valid JSON/ },
  { name: 'an unsupported content type', send: () => fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: 'x' }), status: 415, message: /Unsupported Media Type/i },
];

async function runCases(): Promise<void> {
  for (const c of CASES) {
    const response = await c.send();
    assert.equal(response.status, c.status, c.name);
    const body = await response.json() as { error: string | { message: string } };
    const message = typeof body.error === 'string' ? body.error : body.error.message;
    if (c.ollama) assert.equal(typeof body.error, 'string', c.name);
    assert.match(message, c.message, c.name);
  }
}

async function askOk(question = 'Fine?', image = 'smooth_600x450.png'): Promise<string> {
  const r = await postChat(s.url, chatBody(question, image, { max_tokens: 4 }));
  assert.equal(r.status, 200);
  return ((await r.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content;
}

const rss = async () => metricValue(await metrics(s.url), 'process_resident_memory_bytes')!;

/** Sends the start of a request one byte a second until the server hangs up; returns what it said. */
function slowHeaders(): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(s.port, '127.0.0.1');
    const text = 'POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n';
    let sent = 0;
    let got = '';
    const timer = setInterval(() => { if (sent < text.length && socket.writable) socket.write(text[sent++]!); }, 1000);
    socket.on('data', (d) => { got += d.toString(); });
    socket.on('error', () => undefined);
    socket.on('close', () => { clearInterval(timer); resolve(got); });
  });
}

describe('bad input', () => {
  let baseline = 0;
  let answer = '';

  it('gives each broken request its status and an error body, and keeps serving', async () => {
    answer = await askOk();
    await runCases();
    assert.equal(await askOk(), answer);
    const tiny = await postChat(s.url, withImage(dataUrl('one_pixel_1x1.png')));
    assert.equal(tiny.status, 200, 'a 1x1 image is a valid image');
    baseline = await rss();
  });

  it('answers 408 with an error body to a client that sends its headers one byte a second', async () => {
    const reply = await slowHeaders();
    assert.match(reply, /^HTTP\/1\.1 408 /);
    assert.match(reply, /"message":"The request headers did not arrive in time"/);
    assert.equal(await askOk(), answer);
  });

  it('survives 100 streaming clients that disconnect mid-stream, and its RSS returns to its level', async () => {
    const statuses = new Map<number, number>();
    const clients = Array.from({ length: 100 }, async (_, i) => {
      const controller = new AbortController();
      // Half leave after their first piece; the rest at a random moment, often while queued.
      const leaveAt = i % 2 === 0 ? undefined : 20 + Math.floor(Math.random() * 1500);
      const timer = leaveAt === undefined ? undefined : setTimeout(() => controller.abort(), leaveAt);
      try {
        const r = await postChat(s.url, chatBody(`Storm ${i % 7}?`, i % 3 === 0 ? 'grey_240x180.png' : 'smooth_600x450.png', { stream: true, max_tokens: 200 }), { signal: controller.signal });
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        if (r.status !== 200) {
          // On a loaded machine a client may miss the headers deadline: still a proper error.
          assert.ok([408, 503].includes(r.status), `status ${r.status}`);
          assert.ok(((await r.json()) as { error: { message: string } }).error.message);
          return;
        }
        for await (const event of sseEvents(r)) {
          void event;
          controller.abort();
          break;
        }
      } catch (error) {
        if (!controller.signal.aborted) throw error;
      } finally {
        clearTimeout(timer);
      }
    });
    await Promise.all(clients);
    for (;;) {
      const m = await metrics(s.url);
      if (metricValue(m, 'moondream_busy_sessions') === 0 && metricValue(m, 'moondream_queue_depth') === 0) break;
      await sleep(50);
    }
    await runCases();
    for (let i = 0; i < 3; i++) assert.equal(await askOk(), answer);
    const after = await rss();
    assert.ok(after <= baseline + 64 * 1024 * 1024, `RSS ${(after / 2 ** 20).toFixed(0)} MiB after the storm vs ${(baseline / 2 ** 20).toFixed(0)} MiB before`);
    const lines = s.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { client_disconnected?: boolean; abort_ms?: number });
    const aborted = lines.filter((l) => l.client_disconnected);
    assert.ok(aborted.length >= (statuses.get(200) ?? 0) / 2, `${aborted.length} disconnects logged`);
    const slowest = Math.max(...aborted.map((l) => l.abort_ms ?? 0));
    process.stderr.write(`# storm: RSS ${(baseline / 2 ** 20).toFixed(0)} -> ${(after / 2 ** 20).toFixed(0)} MiB; ${aborted.length} disconnects, slowest abort ${slowest} ms; statuses ${JSON.stringify([...statuses])}\n`);
  });

  it('on SIGTERM lets a running request finish, refuses new ones and exits 0', async () => {
    const r = await postChat(s.url, chatBody('Last one?', undefined, { stream: true, max_tokens: 24 }));
    const events = sseEvents(r);
    await events.next();
    s.proc.kill('SIGTERM');
    const rest: unknown[] = [];
    for await (const event of events) rest.push(event);
    assert.equal(rest.at(-1), '[DONE]');
    assert.equal(await s.exited, 0);
    await assert.rejects(fetch(`${s.url}/health`));
    assert.ok(s.lines.some((l) => l.includes('SIGTERM: no new requests')));
  });
});
