// npm run bench -- [--checkpoint DIR] [--threads 2] [--runs 3] [--stages text,vision,answer] [--types q4_0,q8_0]
//                  [--out DIR] [--json]
// Speed of moondream-ggml on the full-size random checkpoint, against node-llama-cpp on the same
// GGUF in the same run, and against this machine's bounds (measured by the probe at the start).
// Medians of --runs runs. Writes bench.md, bench.json and bench.png into --out (default
// ./bench-results); prints the markdown (or, with --json, the JSON).
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { probeMachine, readGgufInfo } from '../src/index.js';
import type { TextType } from '../src/convert/quant-types.js';
import type { AnswerChildResult } from './bench/answer-child.js';
import type { AnswerTimings } from './bench/answer.js';
import { chartPng, type ChartStage } from './bench/chart.js';
import { fullCheckpoint, fullPair } from './bench/full-models.js';
import { LLAMA_CPP_ANCHOR, prefillWork, visionFlops } from './bench/machine.js';
import { fmt, median } from './bench/stats.js';
import { llamaCppTextSpeed, ourTextSpeed } from './bench/text.js';
import { ourEncodeMs } from './bench/vision.js';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const threads = Number(option('--threads', '2'));
const runs = Number(option('--runs', '3'));
const stages = new Set(option('--stages', 'text,vision,answer').split(','));
const types = option('--types', 'q4_0,q8_0').split(',') as TextType[];
const json = process.argv.includes('--json');
const outDir = option('--out', 'bench-results');
const promptLength = Number(option('--prompt', '750'));
const decoded = 128;
const log = (line: string) => process.stderr.write(`${line}\n`);
const lines: string[] = [];
const say = (line = '') => lines.push(line);
const chart: ChartStage[] = [];

const checkpointArg = process.argv.includes('--checkpoint') ? option('--checkpoint', '') : undefined;
let checkpoint: Promise<string> | undefined;
// Generated (3.7 GB, about 30 s) only when a conversion is actually missing.
const lazyCheckpoint = () => (checkpoint ??= fullCheckpoint(checkpointArg, log));
const pairOf = (type: TextType) => fullPair(lazyCheckpoint, type, 'f16', log);

log('probing this machine (read bandwidth, fp32 and int8 peaks) ...');
// Bounds are peaks: a probe sample that lost time to the host only understates them, so the best
// of three probes counts (each is itself the best of several passes).
const probes = [await probeMachine({ threads }), await probeMachine({ threads }), await probeMachine({ threads })];
const probe = {
  ...probes[0]!,
  readBytesPerSecond: Math.max(...probes.map((p) => p.readBytesPerSecond)),
  fp32FlopsPerSecond: Math.max(...probes.map((p) => p.fp32FlopsPerSecond)),
  int8OpsPerSecond: Math.max(...probes.map((p) => p.int8OpsPerSecond)),
};
const report: Record<string, unknown> = { threads, runs, probe, probes };
say(`# moondream-ggml benchmark, ${threads} threads, median of ${runs} runs`);
say();
say(`Machine probe (${threads} threads, best of 3): read ${fmt(probe.readBytesPerSecond / 1e9, 1)} GB/s; fp32 ${fmt(probe.fp32FlopsPerSecond / 1e9, 0)} GFLOP/s (${probe.fp32Isa}); ` +
  `int8 ${fmt(probe.int8OpsPerSecond / 1e9, 0)} GOP/s (${probe.int8Isa}).`);

if (stages.has('text')) {
  const rows: Record<string, unknown>[] = [];
  for (const type of types) {
    const pair = await pairOf(type);
    const info = await readGgufInfo(pair.text);
    // Decode reads every tensor but token_embd (one row), plus the KV cache up to the prompt.
    const weightBytes = info.tensors.filter((t) => t.name !== 'token_embd.weight').reduce((s, t) => s + t.size, 0);
    const kvBytes = 24 * 2 * 2048 * 2 * (promptLength + decoded / 2);
    const decodeBound = probe.readBytesPerSecond / (weightBytes + kvBytes);
    const work = prefillWork(promptLength);
    const quantized = type !== 'f32' && type !== 'f16';
    // Quantized weights multiply as int8 (activations quantized to q8); attention is fp32.
    const prefillBoundSeconds = work.matmulFlops / (quantized && probe.int8OpsPerSecond > 0 ? probe.int8OpsPerSecond : probe.fp32FlopsPerSecond) +
      work.attentionFlops / probe.fp32FlopsPerSecond;
    const prefillBound = promptLength / prefillBoundSeconds;
    log(`text ${type}: ours ...`);
    const ours = await ourTextSpeed(pair.text, threads, promptLength, decoded, runs);
    log(`text ${type}: node-llama-cpp (flash attention off) ...`);
    const faOff = await llamaCppTextSpeed(pair.text, threads, promptLength, decoded, runs, false);
    log(`text ${type}: node-llama-cpp (flash attention on) ...`);
    const faOn = await llamaCppTextSpeed(pair.text, threads, promptLength, decoded, runs, true);
    const best = {
      prefill: Math.max(faOff.prefillTokensPerSecond, faOn.prefillTokensPerSecond),
      decode: Math.max(faOff.decodeTokensPerSecond, faOn.decodeTokensPerSecond),
    };
    rows.push({
      type, ours, llamaCpp: { flashAttentionOff: faOff, flashAttentionOn: faOn },
      ratio: { prefill: ours.prefillTokensPerSecond / best.prefill, decode: ours.decodeTokensPerSecond / best.decode },
      bound: { decodeTokensPerSecond: decodeBound, prefillTokensPerSecond: prefillBound },
    });
    chart.push(
      { label: `prefill ${promptLength} tokens, ${type}`, oursSeconds: promptLength / ours.prefillTokensPerSecond, theirsSeconds: promptLength / best.prefill, theirsLabel: 'node-llama-cpp', boundSeconds: prefillBoundSeconds },
      { label: `decode ${decoded} tokens, ${type}`, oursSeconds: decoded / ours.decodeTokensPerSecond, theirsSeconds: decoded / best.decode, theirsLabel: 'node-llama-cpp', boundSeconds: decoded / decodeBound },
    );
    say();
    say(`## text ${type}: ${promptLength}-token prompt, ${decoded} decoded tokens`);
    say();
    say('| | prefill tok/s | decode tok/s |');
    say('|---|---|---|');
    say(`| moondream-ggml | ${fmt(ours.prefillTokensPerSecond, 1)} | ${fmt(ours.decodeTokensPerSecond, 1)} |`);
    say(`| node-llama-cpp, FA off | ${fmt(faOff.prefillTokensPerSecond, 1)} | ${fmt(faOff.decodeTokensPerSecond, 1)} |`);
    say(`| node-llama-cpp, FA on | ${fmt(faOn.prefillTokensPerSecond, 1)} | ${fmt(faOn.decodeTokensPerSecond, 1)} |`);
    say(`| ratio vs best node-llama-cpp | ${fmt(ours.prefillTokensPerSecond / best.prefill)}x | ${fmt(ours.decodeTokensPerSecond / best.decode)}x |`);
    say(`| machine bound | ${fmt(prefillBound, 1)} | ${fmt(decodeBound, 1)} |`);
    say(`| fraction of bound | ${fmt(ours.prefillTokensPerSecond / prefillBound)} | ${fmt(ours.decodeTokensPerSecond / decodeBound)} |`);
    say();
    say(`Bounds: prefill = ${fmt(work.matmulFlops / 1e9, 0)} GOP of ${quantized ? 'int8' : 'fp32'} matmuls at the probe's peak + ${fmt(work.attentionFlops / 1e9, 0)} GFLOP of fp32 attention; ` +
      `decode = ${fmt((weightBytes + kvBytes) / 1e6, 0)} MB read per token (weights + KV cache) at the probe's bandwidth.`);
  }
  report.text = rows;
}

if (stages.has('vision')) {
  const pair = await pairOf(types[0] ?? 'q4_0');
  log('vision f16 mmproj: ours ...');
  const encode = await ourEncodeMs(pair, threads, runs);
  const flops = visionFlops({ n: 729, width: 1152, ff: 4304, blocks: 27, projInner: 8192, projOut: 2048, patch: 588 });
  const gflops = flops / 1e9 / (encode.ms / 1000);
  const boundSeconds = flops / probe.fp32FlopsPerSecond;
  report.vision = { encodeMs: encode.ms, runsMs: encode.all, gflop: flops / 1e9, gflopPerSecond: gflops, boundMs: boundSeconds * 1000, llamaCppMs: LLAMA_CPP_ANCHOR.encodeMs };
  chart.unshift({ label: 'vision encode, f16 mmproj', oursSeconds: encode.ms / 1000, theirsSeconds: LLAMA_CPP_ANCHOR.encodeMs / 1000, theirsLabel: 'llama.cpp (anchor)', boundSeconds });
  say();
  say('## vision encode, f16 mmproj');
  say();
  say(`encode ${fmt(encode.ms / 1000)} s (runs: ${encode.all.map((v) => fmt(v / 1000)).join(', ')} s); ${fmt(flops / 1e9, 0)} GFLOP -> ${fmt(gflops, 0)} GFLOP/s = ` +
    `${fmt(gflops / (probe.fp32FlopsPerSecond / 1e9))} of the probe's ${fmt(probe.fp32FlopsPerSecond / 1e9, 0)} GFLOP/s fp32 FMA peak (bound ${fmt(boundSeconds)} s); ` +
    `llama.cpp ${fmt(LLAMA_CPP_ANCHOR.encodeMs / 1000)} s here (anchor; node-llama-cpp has no vision API) -> ${fmt(LLAMA_CPP_ANCHOR.encodeMs / encode.ms)}x`);
}

if (stages.has('answer')) {
  const image = fileURLToPath(new URL('../../test/fixtures/images/photo_320x240_q90.jpg', import.meta.url));
  const child = fileURLToPath(new URL('./bench/answer-child.js', import.meta.url));
  const rows: Record<string, unknown>[] = [];
  say();
  say('## answering: image + question, text model + f16 mmproj, each run in a fresh process');
  say();
  say('| text | load s | encode s | first question: prefill of 753 entries s | decode tok/s | repeated question: first token s | image + question + 32 tokens s | peak RSS MiB | RSS target (files + 400 MB) MiB |');
  say('|---|---|---|---|---|---|---|---|---|');
  for (const type of types) {
    const pair = await pairOf(type);
    log(`answer ${type} (child process) ...`);
    // One fresh process per run: its peak RSS is one load of this pair, nothing left over from
    // an earlier run (a disposed model's memory goes back a moment after dispose() returns).
    const measured: AnswerChildResult[] = [];
    for (let i = 0; i < runs; i++) {
      const result = spawnSync(process.execPath, [child, JSON.stringify({ ...pair, image, threads, runs: 1, maxTokens: 32 })], {
        stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 1 << 24,
      });
      if (result.status !== 0) throw new Error(`the answer benchmark for ${type} failed (exit ${result.status})`);
      measured.push(JSON.parse(result.stdout) as AnswerChildResult);
    }
    const pick = (f: (t: AnswerTimings) => number) => median(measured.map((m) => f(m.runs[0]!)));
    const fileBytes = statSync(pair.text).size + statSync(pair.mmproj).size;
    const row = {
      type,
      loadMs: pick((t) => t.loadMs),
      encodeMs: pick((t) => t.encodeMs),
      firstTimeToFirstTokenMs: pick((t) => t.first.timeToFirstTokenMs),
      repeatedTimeToFirstTokenMs: pick((t) => t.repeated.timeToFirstTokenMs),
      decodeTokensPerSecond: pick((t) => t.first.decodeTokensPerSecond),
      endToEndMs: pick((t) => t.endToEndMs),
      peakRssBytes: median(measured.map((m) => m.peakRssBytes)),
      peakRssBytesMax: Math.max(...measured.map((m) => m.peakRssBytes)),
      rssTargetBytes: fileBytes + 400e6,
    };
    rows.push(row);
    if (type === 'q4_0') {
      chart.push(
        { label: 'repeated question: first token, q4_0', oursSeconds: row.repeatedTimeToFirstTokenMs / 1000, theirsSeconds: LLAMA_CPP_ANCHOR.repeatedTtftMs / 1000, theirsLabel: 'llama.cpp (anchor)' },
        { label: 'image + question + 32 tokens, q4_0', oursSeconds: row.endToEndMs / 1000, theirsSeconds: LLAMA_CPP_ANCHOR.endToEndMs / 1000, theirsLabel: 'llama.cpp (anchor)' },
      );
    }
    const mib = (bytes: number) => fmt(bytes / 2 ** 20, 0);
    say(`| ${type} | ${fmt(row.loadMs / 1000)} | ${fmt(row.encodeMs / 1000)} | ${fmt(row.firstTimeToFirstTokenMs / 1000)} | ${fmt(row.decodeTokensPerSecond, 1)} | ` +
      `${fmt(row.repeatedTimeToFirstTokenMs / 1000)} (${fmt((100 * row.repeatedTimeToFirstTokenMs) / row.firstTimeToFirstTokenMs, 1)}% of the first) | ` +
      `${fmt(row.endToEndMs / 1000)} | ${mib(row.peakRssBytes)} | ${mib(row.rssTargetBytes)} |`);
  }
  say();
  say(`llama.cpp on the same job here (anchor): repeated question ${fmt(LLAMA_CPP_ANCHOR.repeatedTtftMs / 1000, 1)} s (it re-prefills), end to end ${fmt(LLAMA_CPP_ANCHOR.endToEndMs / 1000, 1)} s, peak RSS about 2.9 GB.`);
  report.answer = rows;
}

mkdirSync(outDir, { recursive: true });
const markdown = lines.join('\n') + '\n';
writeFileSync(join(outDir, 'bench.md'), markdown);
writeFileSync(join(outDir, 'bench.json'), JSON.stringify(report, null, 2));
if (chart.length > 0) writeFileSync(join(outDir, 'bench.png'), await chartPng(`moondream-ggml vs llama.cpp, ${threads} threads`, chart));
process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : markdown);
log(`wrote ${join(outDir, 'bench.md')}, bench.json${chart.length > 0 ? ' and bench.png' : ''}`);
