// npm run bench:batch: images per minute on the full-size model for 8 images x 2 questions, three
// ways in one run (`batch`, a loop of the `ask` CLI, a loop of llama.cpp's llama-mtmd-cli on the
// same files), then one queue worker against two on this machine (threads split between them).
//
//   npm run bench:batch -- [--threads N] [--tokens N] [--model dir] [--llama-mtmd-cli path]
//                          [--build-llama-cpp] [--skip-ask] [--skip-llama-cpp] [--skip-workers] [--json]
//
// llama-mtmd-cli comes from --llama-mtmd-cli, else LLAMA_MTMD_CLI, else the cache that
// scripts/build-llama-cpp.mjs fills from the pinned bundle (built now only with --build-llama-cpp);
// without one its column is skipped with a message. Every way runs each process from a cold
// start, as a user would; the model files are in the page cache after the first load.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { outputFileNames } from '../src/convert/convert.js';
import { parseArgs, integerOption } from '../src/cli/args.js';
import { benchCacheDir, fullCheckpoint, fullPair } from './bench/full-models.js';
import { hasRedisServer, startRedis } from './lib/redis-server.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const IMAGES = 8;
const QUESTIONS = ['What is in this picture?', 'What colours are in it?'];
const log = (line: string) => process.stderr.write(`bench:batch: ${line}\n`);

interface Row {
  way: string;
  processes: number;
  wallS: number;
  imagesPerMinute: number;
  answersPerMinute: number;
  meanTokens: number | undefined;
  note?: string;
}

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
  wallMs: number;
}

function run(command: string, args: readonly string[]): Promise<Exit> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, wallMs: performance.now() - started }));
  });
}

function mustSucceed(what: string, exit: Exit): Exit {
  if (exit.code !== 0) throw new Error(`${what} failed (exit ${exit.code}):\n${exit.stderr.split('\n').slice(-20).join('\n')}`);
  return exit;
}

/** Eight 640x480 JPEGs of seeded gradients and noise: real decode work, distinct content. */
async function makeImages(dir: string): Promise<string[]> {
  const paths: string[] = [];
  const width = 640;
  const height = 480;
  for (let i = 0; i < IMAGES; i++) {
    const raw = Buffer.alloc(width * height * 3);
    let x = (i + 1) * 2654435761 >>> 0;
    for (let y = 0; y < height; y++) {
      for (let col = 0; col < width; col++) {
        x = (Math.imul(x, 1103515245) + 12345) >>> 0;
        const o = (y * width + col) * 3;
        raw[o] = (col * 255 / width + i * 31) & 255;
        raw[o + 1] = (y * 255 / height + i * 57) & 255;
        raw[o + 2] = (x >>> 24) & 0x7f;
      }
    }
    const path = join(dir, `image-${i}.jpg`);
    await sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: 85 }).toFile(path);
    paths.push(path);
  }
  return paths;
}

/** Waits while another process (the main benchmark) writes the same cached conversion. */
async function waitForOtherConversion(): Promise<void> {
  const dir = join(benchCacheDir(), 'gguf');
  const names = outputFileNames('q4_0', 'f16');
  const busy = () => [names.text, names.mmproj].some((n) => {
    const partial = join(dir, `${n}.partial`);
    return existsSync(partial) && Date.now() - statSync(partial).mtimeMs < 120_000;
  });
  if (busy()) log('another process is converting the full-size pair; waiting for it ...');
  while (busy()) await new Promise((resolve) => setTimeout(resolve, 5000));
}

async function modelFolder(given: string | undefined): Promise<string> {
  if (given) return given;
  await waitForOtherConversion();
  const pair = await fullPair(() => fullCheckpoint(undefined, log), 'q4_0', 'f16', log);
  // The cache folder may hold other pairs too: link this one into a folder of its own.
  const dir = join(benchCacheDir(), 'batch-model-q4_0');
  mkdirSync(dir, { recursive: true });
  for (const file of [pair.text, pair.mmproj]) {
    const link = join(dir, basename(file));
    if (!existsSync(link)) symlinkSync(file, link);
  }
  return dir;
}

interface BuildModule {
  llamaCppBinaries(o: { variant: string; targets: string[] }): Record<string, string> | null;
  buildLlamaCpp(o: { variant: string; targets: string[]; log: (line: string) => void }): Promise<{ binaries: Record<string, string> }>;
}

/** llama-mtmd-cli's path, or undefined with the reason. */
async function mtmdCli(explicit: string | undefined, build: boolean): Promise<{ path?: string; why?: string }> {
  const given = explicit ?? process.env.LLAMA_MTMD_CLI;
  if (given) return existsSync(given) ? { path: given } : { why: `${given} does not exist` };
  const script = join(ROOT, 'scripts', 'build-llama-cpp.mjs');
  if (!existsSync(script)) return { why: 'no --llama-mtmd-cli or LLAMA_MTMD_CLI, and no scripts/build-llama-cpp.mjs in this checkout' };
  const module = (await import(pathToFileURL(script).href)) as BuildModule;
  const targets = ['llama-mtmd-cli'];
  const ready = module.llamaCppBinaries({ variant: 'native', targets });
  if (ready?.['llama-mtmd-cli']) return { path: ready['llama-mtmd-cli'] };
  if (!build) return { why: 'llama.cpp is not built yet: rerun with --build-llama-cpp (or node scripts/build-llama-cpp.mjs), or set LLAMA_MTMD_CLI' };
  const built = await module.buildLlamaCpp({ variant: 'native', targets, log });
  return { path: built.binaries['llama-mtmd-cli']! };
}

function row(way: string, processes: number, wallMs: number, answers: number, tokens: number[] | undefined, note?: string): Row {
  const minutes = wallMs / 60_000;
  return {
    way, processes, wallS: wallMs / 1000, imagesPerMinute: IMAGES / minutes, answersPerMinute: answers / minutes,
    meanTokens: tokens && tokens.length > 0 ? tokens.reduce((a, b) => a + b, 0) / tokens.length : undefined,
    ...(note ? { note } : {}),
  };
}

function tokensOf(jsonl: string): number[] {
  return readFileSync(jsonl, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { tokens?: number }).tokens ?? 0);
}

async function benchBatch(work: string, model: string, threads: number, tokens: number): Promise<Row> {
  const out = join(work, 'batch.jsonl');
  const exit = mustSucceed('batch', await run(process.execPath, [CLI, 'batch', join(work, 'images'),
    ...QUESTIONS.flatMap((q) => ['--question', q]), '--out', out, '--no-resume', '--model', model,
    '--threads', String(threads), '--max-tokens', String(tokens), '--json']));
  return row('moondream-ggml batch', 1, exit.wallMs, IMAGES * QUESTIONS.length, tokensOf(out));
}

async function benchAskLoop(images: string[], model: string, threads: number, tokens: number): Promise<Row> {
  let wallMs = 0;
  const counts: number[] = [];
  for (const image of images) {
    for (const question of QUESTIONS) {
      const exit = mustSucceed('ask', await run(process.execPath, [CLI, 'ask', image, question, '--model', model,
        '--threads', String(threads), '--max-tokens', String(tokens), '--json']));
      wallMs += exit.wallMs;
      counts.push((JSON.parse(exit.stdout) as { tokens: number[] }).tokens.length);
    }
  }
  return row('loop of moondream-ggml ask', images.length * QUESTIONS.length, wallMs, images.length * QUESTIONS.length, counts);
}

async function benchMtmdLoop(cli: string, images: string[], model: string, threads: number, tokens: number): Promise<Row> {
  const names = readdirSync(model);
  const file = (prefix: string) => join(model, names.find((n) => n.startsWith(prefix) && n.endsWith('.gguf'))!);
  let wallMs = 0;
  for (const image of images) {
    for (const question of QUESTIONS) {
      // Greedy, exactly `tokens` new tokens (EOS ignored), vicuna's short template; flash attention as ours.
      const exit = mustSucceed('llama-mtmd-cli', await run(cli, ['-m', file('moondream1-text-model-'), '--mmproj', file('moondream1-mmproj-'),
        '--image', image, '-p', question, '-n', String(tokens), '-t', String(threads), '-c', '2048', '--temp', '0', '--ignore-eos',
        '--chat-template', 'vicuna', '-fa', 'on', '--no-mmproj-offload']));
      wallMs += exit.wallMs;
    }
  }
  return row('loop of llama-mtmd-cli', images.length * QUESTIONS.length, wallMs, images.length * QUESTIONS.length,
    Array<number>(images.length * QUESTIONS.length).fill(tokens));
}

/** Workers started and ready first (their load is not timed); the producer's wall time is. */
async function benchWorkers(work: string, model: string, workers: number, threadsEach: number, tokens: number): Promise<Row> {
  const redis = await startRedis();
  const children = Array.from({ length: workers }, () => spawn(process.execPath, [CLI, 'worker', '--queue', redis.url, '--model', model,
    '--threads', String(threadsEach)], { stdio: ['ignore', 'ignore', 'pipe'] }));
  try {
    await Promise.all(children.map((child) => new Promise<void>((resolve, reject) => {
      let text = '';
      child.stderr!.on('data', (c: Buffer) => {
        text += c.toString();
        if (text.includes(': ready on ')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`a worker exited (${code}) before it was ready:\n${text}`)));
    })));
    const out = join(work, `workers-${workers}.jsonl`);
    const exit = mustSucceed('batch --queue', await run(process.execPath, [CLI, 'batch', join(work, 'images'),
      ...QUESTIONS.flatMap((q) => ['--question', q]), '--out', out, '--no-resume', '--max-tokens', String(tokens),
      '--queue', redis.url, '--job', `bench-${workers}`, '--json']));
    return row(`${workers} queue worker${workers > 1 ? 's' : ''} x ${threadsEach} thread${threadsEach > 1 ? 's' : ''}`, workers,
      exit.wallMs, IMAGES * QUESTIONS.length, tokensOf(out), 'workers loaded before the clock starts');
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map((child) => new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.on('exit', resolve)))));
    await redis.stop();
  }
}

function markdown(rows: readonly Row[], skipped: readonly string[], threads: number, tokens: number, modelText: string): string {
  const lines = [
    `${IMAGES} images (640x480 JPEG) x ${QUESTIONS.length} questions, at most ${tokens} new tokens each, ${threads} threads, ${modelText}`,
    '',
    '| way | processes | wall | images/min | answers/min | mean tokens | |',
    '|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.way} | ${r.processes} | ${r.wallS.toFixed(1)} s | ${r.imagesPerMinute.toFixed(2)} | ${r.answersPerMinute.toFixed(2)} | ` +
      `${r.meanTokens?.toFixed(1) ?? ''} | ${r.note ?? ''} |`),
    ...(skipped.length > 0 ? ['', ...skipped.map((s) => `skipped: ${s}`)] : []),
  ];
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), ['--threads', '--tokens', '--model', '--llama-mtmd-cli'],
    ['--json', '--skip-ask', '--skip-llama-cpp', '--skip-workers', '--build-llama-cpp']);
  const threads = integerOption(args, '--threads', 1, 256) ?? 2;
  const tokens = integerOption(args, '--tokens', 1, 512) ?? 32;
  const model = await modelFolder(args.values.get('--model'));
  const work = mkdtempSync(join(tmpdir(), 'moondream-bench-batch-'));
  const rows: Row[] = [];
  const skipped: string[] = [];
  try {
    mkdirSync(join(work, 'images'));
    const images = await makeImages(join(work, 'images'));
    log(`model ${model}; ${threads} threads; ${tokens} tokens`);
    log('batch ...');
    rows.push(await benchBatch(work, model, threads, tokens));
    if (args.flags.has('--skip-ask')) skipped.push('the ask loop (--skip-ask)');
    else {
      log('ask loop ...');
      rows.push(await benchAskLoop(images, model, threads, tokens));
    }
    const mtmd = args.flags.has('--skip-llama-cpp') ? { why: 'not run (--skip-llama-cpp)' }
      : await mtmdCli(args.values.get('--llama-mtmd-cli'), args.flags.has('--build-llama-cpp'));
    if (mtmd.path) {
      log(`llama-mtmd-cli loop (${mtmd.path}) ...`);
      rows.push(await benchMtmdLoop(mtmd.path, images, model, threads, tokens));
    } else {
      skipped.push(`llama-mtmd-cli: ${mtmd.why}`);
      log(`skipping llama-mtmd-cli: ${mtmd.why}`);
    }
    if (args.flags.has('--skip-workers')) skipped.push('the worker comparison (--skip-workers)');
    else if (!hasRedisServer()) skipped.push('the worker comparison: redis-server is not installed');
    else {
      log('1 worker ...');
      rows.push(await benchWorkers(work, model, 1, threads, tokens));
      if (threads >= 2) {
        log('2 workers ...');
        rows.push(await benchWorkers(work, model, 2, Math.floor(threads / 2), tokens));
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  process.stdout.write(args.flags.has('--json') ? `${JSON.stringify({ threads, tokens, images: IMAGES, questions: QUESTIONS, rows, skipped }, null, 2)}\n`
    : markdown(rows, skipped, threads, tokens, args.values.has('--model') ? `model ${model}` : 'full-size random weights, q4_0 + f16 mmproj'));
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:batch: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exitCode = 1;
});
