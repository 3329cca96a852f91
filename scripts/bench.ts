// npm run bench -- [--checkpoint DIR] [--threads 2] [--runs 3] [--stages text,vision,answer] [--types q4_0,q8_0] [--json]
// Speed of moondream-ggml on the full-size random checkpoint, against node-llama-cpp on the same
// GGUF in the same run, and against this machine's bounds. Medians of --runs runs.
import { readGgufInfo } from '../src/index.js';
import type { TextType } from '../src/convert/quant-types.js';
import { fullCheckpoint, fullPair } from './bench/full-models.js';
import { ANCHOR_BOUNDS, prefillFlops, visionFlops } from './bench/machine.js';
import { fmt, median } from './bench/stats.js';
import { llamaCppTextSpeed, ourTextSpeed } from './bench/text.js';
import { ourEncodeMs } from './bench/vision.js';
import { answerTimings, type AnswerTimings } from './bench/answer.js';
import { fileURLToPath } from 'node:url';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const threads = Number(option('--threads', '2'));
const runs = Number(option('--runs', '3'));
const stages = new Set(option('--stages', 'text,vision,answer').split(','));
const types = option('--types', 'q4_0,q8_0').split(',') as TextType[];
const json = process.argv.includes('--json');
const promptLength = Number(option('--prompt', '750'));
const decoded = 128;
const log = (line: string) => process.stderr.write(`${line}\n`);
const bounds = ANCHOR_BOUNDS;
const report: Record<string, unknown> = { threads, runs, bounds };

const checkpoint = await fullCheckpoint(process.argv.includes('--checkpoint') ? option('--checkpoint', '') : undefined, log);

if (stages.has('text')) {
  const rows: Record<string, unknown>[] = [];
  for (const type of types) {
    const pair = await fullPair(checkpoint, type, 'f16', log);
    const info = await readGgufInfo(pair.text);
    // Decode reads every tensor but token_embd (one row), plus the KV cache up to the prompt.
    const weightBytes = info.tensors.filter((t) => t.name !== 'token_embd.weight').reduce((s, t) => s + t.size, 0);
    const kvBytes = 24 * 2 * 2048 * 2 * (promptLength + decoded / 2);
    const decodeBound = bounds.readBandwidth / (weightBytes + kvBytes);
    const flops = prefillFlops(promptLength, 1.208e9, 24, 2048, 104.9e6);
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
      bound: { decodeTokensPerSecond: decodeBound, prefillTokensPerSecond: (promptLength * bounds.fmaPeak) / flops },
    });
    if (!json) {
      console.log(`\n### text ${type}, ${promptLength}-token prompt, ${decoded} decoded tokens, ${threads} threads (median of ${runs})`);
      console.log('| | prefill tok/s | decode tok/s |');
      console.log('|---|---|---|');
      console.log(`| moondream-ggml | ${fmt(ours.prefillTokensPerSecond, 1)} | ${fmt(ours.decodeTokensPerSecond, 1)} |`);
      console.log(`| node-llama-cpp, FA off | ${fmt(faOff.prefillTokensPerSecond, 1)} | ${fmt(faOff.decodeTokensPerSecond, 1)} |`);
      console.log(`| node-llama-cpp, FA on | ${fmt(faOn.prefillTokensPerSecond, 1)} | ${fmt(faOn.decodeTokensPerSecond, 1)} |`);
      console.log(`| ratio vs best node-llama-cpp | ${fmt(ours.prefillTokensPerSecond / best.prefill)}x | ${fmt(ours.decodeTokensPerSecond / best.decode)}x |`);
      console.log(`| machine bound (prefill: fp32 FMA; decode: read bandwidth) | ${fmt((promptLength * bounds.fmaPeak) / flops, 1)} | ${fmt(decodeBound, 1)} |`);
      console.log(`| fraction of bound | ${fmt(ours.prefillTokensPerSecond / ((promptLength * bounds.fmaPeak) / flops))} | ${fmt(ours.decodeTokensPerSecond / decodeBound)} |`);
      console.log(`\n(Bounds from ${bounds.source}. Quantized prefill runs int8 dot products (AVX-512 VNNI here), which the fp32 bound does not cover.)`);
    }
  }
  report.text = rows;
}

if (stages.has('vision')) {
  const pair = await fullPair(checkpoint, types[0] ?? 'q4_0', 'f16', log);
  log('vision f16 mmproj: ours ...');
  const encode = await ourEncodeMs(pair, threads, runs);
  const flops = visionFlops({ n: 729, width: 1152, ff: 4304, blocks: 27, projInner: 8192, projOut: 2048, patch: 588 });
  const gflops = flops / 1e9 / (encode.ms / 1000);
  report.vision = { encodeMs: encode.ms, runsMs: encode.all, gflop: flops / 1e9, gflopPerSecond: gflops, llamaCppMs: 5400 };
  if (!json) {
    console.log(`\n### vision encode, f16 mmproj, ${threads} threads (median of ${runs})`);
    console.log(`encode ${fmt(encode.ms / 1000)} s (runs: ${encode.all.map((v) => fmt(v / 1000)).join(', ')} s); ` +
      `${fmt(flops / 1e9, 0)} GFLOP -> ${fmt(gflops, 0)} GFLOP/s = ${fmt(gflops / (bounds.fmaPeak / 1e9))} of the ${fmt(bounds.fmaPeak / 1e9, 0)} GFLOP/s fp32 FMA peak; ` +
      `llama.cpp 5.40 s here (anchor) -> ${fmt(5400 / encode.ms)}x`);
  }
}

if (stages.has('answer')) {
  const image = fileURLToPath(new URL('../../test/fixtures/images/photo_320x240_q90.jpg', import.meta.url));
  const rows: Record<string, unknown>[] = [];
  for (const type of types) {
    const pair = await fullPair(checkpoint, type, 'f16', log);
    log(`answer ${type} ...`);
    const runsOf: AnswerTimings[] = [];
    for (let i = 0; i < runs; i++) runsOf.push(await answerTimings(pair, image, threads, 32));
    const pick = (f: (t: (typeof runsOf)[number]) => number) => median(runsOf.map(f));
    const row = {
      type,
      loadMs: pick((t) => t.loadMs),
      encodeMs: pick((t) => t.encodeMs),
      firstTimeToFirstTokenMs: pick((t) => t.first.timeToFirstTokenMs),
      repeatedTimeToFirstTokenMs: pick((t) => t.repeated.timeToFirstTokenMs),
      decodeTokensPerSecond: pick((t) => t.first.decodeTokensPerSecond),
      endToEndMs: pick((t) => t.endToEndMs),
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
    };
    rows.push(row);
    if (!json) {
      console.log(`\n### answering, text ${type} + f16 mmproj, ${threads} threads (median of ${runs})`);
      console.log(`load ${fmt(row.loadMs / 1000)} s | encode ${fmt(row.encodeMs / 1000)} s | first question: prefill of ${753} entries ` +
        `${fmt(row.firstTimeToFirstTokenMs / 1000)} s, decode ${fmt(row.decodeTokensPerSecond, 1)} tok/s | repeated question on the same image: ` +
        `first token after ${fmt(row.repeatedTimeToFirstTokenMs / 1000)} s (${fmt((100 * row.repeatedTimeToFirstTokenMs) / row.firstTimeToFirstTokenMs, 1)}% of the first) | ` +
        `image + question + 32 tokens end to end ${fmt(row.endToEndMs / 1000)} s | peak RSS of this process so far ${fmt(row.peakRssBytes / 2 ** 30)} GiB`);
    }
  }
  report.answer = rows;
}

if (json) console.log(JSON.stringify(report, null, 2));
