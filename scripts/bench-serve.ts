// npm run bench:serve -- [--model DIR] [--clients N] [--requests N] [--max-tokens N] [--parallel N] [--threads N]
// Starts `moondream-ggml serve` as a child process (the tiny generated model unless --model is
// given), drives it with concurrent streaming clients asking about a few images in turn (so
// prefixes are both new and reused), and prints requests/s, p50/p99 time to first token and whole
// request, errors, and the server's RSS before and after. Our own load generator rather than
// autocannon, which sees whole responses only and cannot time the first token of a stream.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { convertCheckpoint } from '../src/convert/convert.js';
import { writeMoondream1Checkpoint } from './lib/moondream1-checkpoint.js';

const IMAGES = ['smooth_600x450.png', 'grey_240x180.png', 'photo_320x240_q90.jpg', 'text_640x200.png'];
const QUESTIONS = ['What is this?', 'What colour is it?', 'Is there any text?', 'Describe it.', 'How many objects are there?'];
const CLI = new URL('../src/cli/main.js', import.meta.url).pathname;
const FIXTURES = new URL('../../test/fixtures/images/', import.meta.url).pathname;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

async function rss(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('process_resident_memory_bytes '));
  return Number(line?.split(' ')[1] ?? NaN);
}

async function startServer(model: string, args: string[]): Promise<{ url: string; stop: () => Promise<void> }> {
  const proc = spawn(process.execPath, [CLI, 'serve', '--model', model, '--port', '0', '--max-queue', '4096', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  process.once('exit', () => proc.kill('SIGKILL'));
  const url = await new Promise<string>((resolve, reject) => {
    let text = '';
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (chunk: string) => {
      text += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(text);
      if (match) resolve(match[1]!);
    });
    proc.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${text}`)));
  });
  while ((await fetch(`${url}/health`).then((r) => r.status, () => 0)) !== 200) await new Promise((r) => setTimeout(r, 100));
  return { url, stop: () => new Promise((resolve) => { proc.once('exit', () => resolve()); proc.kill('SIGTERM'); }) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' }, clients: { type: 'string', default: '8' }, requests: { type: 'string', default: '1000' },
      'max-tokens': { type: 'string', default: '8' }, parallel: { type: 'string' }, threads: { type: 'string', default: '2' },
    },
  });
  const clients = Number(values.clients);
  const total = Number(values.requests);
  const maxTokens = Number(values['max-tokens']);
  let model = values.model;
  let scratch: string | undefined;
  if (!model) {
    scratch = mkdtempSync(join(tmpdir(), 'moondream-bench-serve-'));
    await writeMoondream1Checkpoint({ size: 'tiny', seed: 7, outDir: join(scratch, 'hf') });
    await convertCheckpoint({ checkpointDir: join(scratch, 'hf'), outDir: join(scratch, 'gguf'), textType: 'q8_0', visionType: 'f16', threads: 2 });
    model = join(scratch, 'gguf');
  }
  const images = IMAGES.map((name) => `data:image/${name.endsWith('.jpg') ? 'jpeg' : 'png'};base64,${readFileSync(join(FIXTURES, name)).toString('base64')}`);
  const server = await startServer(model, [...(values.parallel ? ['--parallel', values.parallel] : []), '--threads', values.threads!]);
  try {
    const rssBefore = await rss(server.url);
    const ttft: number[] = [];
    const whole: number[] = [];
    let errors = 0;
    let cachedTokens = 0;
    let next = 0;
    const started = performance.now();
    const worker = async () => {
      while (next < total) {
        const i = next++;
        const t0 = performance.now();
        try {
          const response = await fetch(`${server.url}/v1/chat/completions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              model: 'moondream1', max_tokens: maxTokens, stream: true, stream_options: { include_usage: true },
              messages: [{ role: 'user', content: [{ type: 'text', text: QUESTIONS[i % QUESTIONS.length] }, { type: 'image_url', image_url: { url: images[Math.floor(i / QUESTIONS.length) % images.length] } }] }],
            }),
          });
          if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
          let first: number | undefined;
          let done = false;
          const decoder = new TextDecoder();
          for await (const chunk of response.body!) {
            const text = decoder.decode(chunk as Uint8Array, { stream: true });
            if (first === undefined && text.includes('"content"')) first = performance.now();
            const usage = /"cached_tokens":(\d+)/.exec(text);
            if (usage) cachedTokens += Number(usage[1]);
            if (text.includes('data: [DONE]')) done = true;
          }
          if (!done) throw new Error('stream ended without [DONE]');
          const end = performance.now();
          ttft.push((first ?? end) - t0);
          whole.push(end - t0);
        } catch (error) {
          errors++;
          if (errors <= 5) process.stderr.write(`request ${i}: ${String(error)}\n`);
        }
      }
    };
    await Promise.all(Array.from({ length: clients }, worker));
    const seconds = (performance.now() - started) / 1000;
    const rssAfter = await rss(server.url);
    ttft.sort((a, b) => a - b);
    whole.sort((a, b) => a - b);
    const ms = (v: number) => v.toFixed(0);
    const mib = (v: number) => (v / 2 ** 20).toFixed(0);
    process.stdout.write([
      `model: ${values.model ?? 'tiny (generated)'}; ${clients} clients, ${total} streaming requests, max_tokens ${maxTokens}, --parallel ${values.parallel ?? 'default'}, --threads ${values.threads}`,
      '',
      '| requests/s | TTFT p50 ms | TTFT p99 ms | request p50 ms | request p99 ms | errors | cached prompt tokens | RSS before MiB | RSS after MiB |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      `| ${(whole.length / seconds).toFixed(2)} | ${ms(percentile(ttft, 50))} | ${ms(percentile(ttft, 99))} | ${ms(percentile(whole, 50))} | ${ms(percentile(whole, 99))} | ${errors} | ${cachedTokens} | ${mib(rssBefore)} | ${mib(rssAfter)} |`,
      '',
    ].join('\n'));
    if (errors > 0) process.exitCode = 1;
  } finally {
    await server.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
