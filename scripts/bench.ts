// npm run bench -- [--runs 3] [--threads 2] [--stages text,vision,answer,profile] [--types q4_0,q8_0] [--prompt 750]
//                  [--isa native|avx2] [--checkpoint DIR] [--out DIR] [--json]
// Speed of moondream-ggml on the full-size random checkpoint against llama.cpp's own tools
// (llama-bench, llama-mtmd-cli), built from the same pinned source as our ggml and run on the same
// GGUF files with the same thread count in this run, alternately with ours, each at its best
// flash-attention setting; and against this machine's bounds (the probe, run before and after).
// --isa avx2 runs both sides without AVX-512 (ggml's AVX2 path and our AVX2 kernels; our AVX-512
// kernels off), as on a CPU that lacks it. Writes bench.md, bench.json and bench.png into --out (default ./bench-results) and
// prints the markdown (or, with --json, the JSON).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TextType } from '../src/convert/quant-types.js';
import { readGgufInfo } from '../src/index.js';
import { chartPng } from './bench/chart.js';
import type { ChildJob, ChildResult } from './bench/child.js';
import { fullCheckpoint, fullMmproj, fullPair } from './bench/full-models.js';
import { llamaBench, llamaCppTools, mtmdRun, type LlamaCppVariant, type MtmdRun } from './bench/llama-cpp.js';
import { describeMachine } from './bench/machine-info.js';
import { runMeasured } from './bench/measured-process.js';
import { runProbes, summarizeProbes } from './bench/probe.js';
import { renderReport, type BenchReport, type TextMeasurement } from './bench/report.js';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

function positiveInteger(name: string, fallback: string): number {
  const value = Number(option(name, fallback));
  if (!Number.isInteger(value) || value < 1) throw new Error(`Expected a positive integer for ${name} but received ${option(name, fallback)}`);
  return value;
}

const threads = positiveInteger('--threads', '2');
const runs = positiveInteger('--runs', '3');
const promptLength = positiveInteger('--prompt', '750');
const stages = new Set(option('--stages', 'text,vision,answer,profile').split(','));
const types = option('--types', 'q4_0,q8_0').split(',') as TextType[];
const isa = option('--isa', 'native');
if (isa !== 'native' && isa !== 'avx2') throw new Error(`Expected native or avx2 for --isa but received ${isa}`);
const json = process.argv.includes('--json');
const outDir = option('--out', 'bench-results');
const decoded = 32;        // tg32 at depth --prompt, as llama-bench measures decode
const answerTokens = 32;   // image + question + 32 tokens
const question = 'What is the title of this book?';
const log = (line: string) => process.stderr.write(`${line}\n`);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const checkpointArg = process.argv.includes('--checkpoint') ? option('--checkpoint', '') : undefined;
let checkpoint: Promise<string> | undefined;
// Generated (3.7 GB) only when a conversion is actually missing.
const lazyCheckpoint = () => (checkpoint ??= fullCheckpoint(checkpointArg, log));
const pairOf = (type: TextType) => fullPair(lazyCheckpoint, type, 'f16', log);

// ---- both sides' builds --------------------------------------------------------------------------

const variant: LlamaCppVariant = isa;
log(`llama.cpp (${variant}): building from the pinned bundle if needed ...`);
const tools = await llamaCppTools(variant, log);
const childEnv: NodeJS.ProcessEnv = { ...process.env };
if (isa === 'avx2') {
  log('moondream-ggml: building the AVX2-only addon into build-avx2/ if needed ...');
  execFileSync(process.execPath, [join(root, 'scripts', 'build-native.mjs'), '--isa', 'avx2'], { stdio: ['ignore', process.stderr, process.stderr] });
  childEnv.MOONDREAM_GGML_ADDON = join(root, 'build-avx2', 'Release', 'moondream_ggml.node');
  // Our own AVX-512 kernels (VNNI, f16 matmul, both attentions) dispatch at run time, so the build
  // alone does not switch them off; the cap does (native/src/cpu_level.h).
  childEnv.MOONDREAM_CPU_LEVEL = 'avx2';
}
const childScript = fileURLToPath(new URL('./bench/child.js', import.meta.url));

async function ours(job: ChildJob, env: NodeJS.ProcessEnv = {}): Promise<ChildResult & { wallMs: number }> {
  const run = await runMeasured(process.execPath, [childScript, JSON.stringify(job)], { env: { ...childEnv, ...env } });
  if (run.status !== 0) throw new Error(`our ${job.kind} measurement failed (exit ${run.status}):\n${run.stderr.split('\n').slice(-20).join('\n')}`);
  return { ...(JSON.parse(run.stdout) as ChildResult), wallMs: run.wallMs };
}

// ---- the run -------------------------------------------------------------------------------------

const machine = describeMachine();
log('probing this machine (read bandwidth, fp32 and int8 peaks) ...');
const probes = await runProbes(threads, 3);
const files: BenchReport['files'] = {};
const fileSizes = async (type: TextType) => {
  const pair = await pairOf(type);
  files[type] = { ...pair, textBytes: statSync(pair.text).size, mmprojBytes: statSync(pair.mmproj).size };
  return pair;
};
for (const type of types) await fileSizes(type);
const image = join(root, 'test', 'fixtures', 'images', 'photo_320x240_q90.jpg');
/** What the model answered about before the request a running server is timed on. */
const earlierImage = join(root, 'test', 'fixtures', 'images', 'smooth_600x450.png');
if (!existsSync(image)) throw new Error(`the benchmark image ${image} is missing`);

const report: BenchReport = {
  version: 2,
  date: new Date().toISOString(),
  threads, runs, isa, promptLength, decoded, answerTokens,
  machine,
  llamaCpp: { commit: tools.commit, variant: tools.variant },
  files,
  probe: summarizeProbes(probes),
};

/** A load of `type`'s pair and nothing else, in a fresh process with `env` added. */
async function loadOnly(type: TextType, env: NodeJS.ProcessEnv) {
  const r = await ours({ kind: 'load', ...(await pairOf(type)), threads }, env);
  if (r.kind !== 'load') throw new Error('unexpected child result');
  return r.result;
}

// Every timed run of ours loads the weights packed for our kernels from the default packed-weight
// cache, as every load after a model file's first does: fill it first, or the first run of a stage
// would pack and write it (and the writes' page-cache faults and writeback would land in its figures).
for (const type of types) {
  log(`moondream-ggml ${type}: filling the default packed-weight cache if needed ...`);
  await loadOnly(type, {});
}

if (stages.has('vision')) {
  const type = types[0]!;
  const pair = await pairOf(type);
  log('vision: ours (warm-up, then one encode per run) ...');
  const result = await ours({ kind: 'vision', ...pair, threads, reps: runs });
  if (result.kind !== 'vision') throw new Error('unexpected child result');
  report.vision = { type, oursEncodeMs: result.result.encodeMs, oursWarmupMs: result.result.warmupMs, ggmlFeatures: result.ggmlFeatures };
  if (isa === 'native') {
    // The opt-in bf16 mmproj: its speed, and what it costs in precision, which the f16 default's
    // error is printed beside (both against the f32 mmproj, on the same image).
    const bf16 = await fullMmproj(lazyCheckpoint, 'bf16', log);
    const f32 = await fullMmproj(lazyCheckpoint, 'f32', log);
    log('vision: ours with the bf16 mmproj (warm-up, then one encode per run) ...');
    const timed = await ours({ kind: 'vision', text: pair.text, mmproj: bf16, threads, reps: runs });
    if (timed.kind !== 'vision') throw new Error('unexpected child result');
    log('vision: the f16 and bf16 embeddings against the f32 mmproj\'s ...');
    const errors = await ours({ kind: 'vision-error', text: pair.text, reference: f32, mmproj: { f16: pair.mmproj, bf16 }, threads });
    if (errors.kind !== 'vision-error') throw new Error('unexpected child result');
    report.vision.bf16 = {
      encodeMs: timed.result.encodeMs,
      kernel: timed.kernels.includes('bf16_matrix') ? 'VDPBF16PS' : 'widened to f32',
      relativeRms: { f16: errors.result.relativeRms.f16!, bf16: errors.result.relativeRms.bf16! },
    };
  }
}

if (stages.has('vision') || stages.has('answer')) {
  report.answer = [];
  // The opt-in bf16 mmproj's requests, beside the f16 default's (native only: it is for AVX-512 BF16).
  const bf16Mmproj = isa === 'native' ? await fullMmproj(lazyCheckpoint, 'bf16', log) : undefined;
  for (const type of types) {
    const pair = await pairOf(type);
    const row: NonNullable<BenchReport['answer']>[number] = { type, ours: [], llamaCpp: { off: [], on: [] } };
    // The packed-weight cache: a first load packs the weights and writes them (into a folder of
    // this run's, so it always writes), and a load with the cache off repacks as every load did
    // before it. The timed runs load from the default cache (filled above), as every load after
    // the first does.
    const scratchCache = mkdtempSync(join(tmpdir(), 'moondream-bench-packed-'));
    try {
      log(`answer ${type}: a first load, packing into a new packed-weight cache ...`);
      const first = await loadOnly(type, { MOONDREAM_PACKED_CACHE_DIR: scratchCache });
      const loads: NonNullable<typeof row.loads> = { firstMs: first.loadMs, first: first.packedCache, uncachedMs: [] };
      row.loads = loads;
    } finally {
      rmSync(scratchCache, { recursive: true, force: true });
    }
    for (let i = 0; i < runs; i++) {
      log(`answer ${type}, run ${i + 1}/${runs}: ours, loading with the packed-weight cache off ...`);
      row.loads!.uncachedMs.push((await loadOnly(type, { MOONDREAM_DISABLE_PACKED_CACHE: '1' })).loadMs);
      // Alternating, so a change of the machine's load between runs hits both sides alike.
      log(`answer ${type}, run ${i + 1}/${runs}: ours (fresh process) ...`);
      const mine = await ours({ kind: 'answer', ...pair, image, threads, maxTokens: answerTokens });
      if (mine.kind !== 'answer') throw new Error('unexpected child result');
      row.ours.push({ ...mine.result, wallMs: mine.wallMs, peakRssBytes: mine.peakRssBytes });
      log(`answer ${type}, run ${i + 1}/${runs}: ours (a request after an earlier one) ...`);
      const served = await ours({ kind: 'served', ...pair, earlierImage, image, threads, maxTokens: answerTokens });
      if (served.kind !== 'served') throw new Error('unexpected child result');
      (row.oursServed ??= []).push(served.result);
      if (bf16Mmproj !== undefined && type === types[0]) {
        const bf16Pair = { text: pair.text, mmproj: bf16Mmproj };
        log(`answer ${type}, run ${i + 1}/${runs}: ours with the bf16 mmproj (fresh process, then a request after an earlier one) ...`);
        const fresh = await ours({ kind: 'answer', ...bf16Pair, image, threads, maxTokens: answerTokens });
        const later = await ours({ kind: 'served', ...bf16Pair, earlierImage, image, threads, maxTokens: answerTokens });
        if (fresh.kind !== 'answer' || later.kind !== 'served') throw new Error('unexpected child result');
        row.bf16 ??= { ours: [], served: [] };
        row.bf16.ours.push({ ...fresh.result, wallMs: fresh.wallMs, peakRssBytes: fresh.peakRssBytes });
        row.bf16.served.push(later.result);
      }
      for (const fa of [false, true]) {
        log(`answer ${type}, run ${i + 1}/${runs}: llama-mtmd-cli, flash attention ${fa ? 'on' : 'off'} ...`);
        const theirs: MtmdRun = await mtmdRun(tools, { ...pair, image, question, threads, tokens: answerTokens, flashAttention: fa });
        row.llamaCpp[fa ? 'on' : 'off'].push(theirs);
      }
    }
    report.answer.push(row);
  }
}

if (stages.has('text')) {
  report.text = [];
  for (const type of types) {
    const pair = await pairOf(type);
    const info = await readGgufInfo(pair.text);
    // Decode reads every tensor but token_embd (one row), plus the KV cache up to its depth.
    const weightBytes = info.tensors.filter((t) => t.name !== 'token_embd.weight').reduce((s, t) => s + t.size, 0);
    const row: TextMeasurement = {
      type, weightBytes,
      ours: { prefill: [], decode: [], readAround: [] },
      llamaCpp: { prefill: { off: [], on: [] }, decode: { off: [], on: [] } },
    };
    for (let i = 0; i < runs; i++) {
      log(`text ${type}, run ${i + 1}/${runs}: ours (fresh process) ...`);
      const mine = await ours({ kind: 'text', text: pair.text, threads, promptLength, decoded });
      if (mine.kind !== 'text') throw new Error('unexpected child result');
      row.ours.prefill.push((promptLength * 1000) / mine.result.prefillMs);
      row.ours.decode.push((mine.result.decodeSteps * 1000) / mine.result.decodeMs);
      row.ours.readAround?.push(mine.result.readAround);
      for (const fa of [false, true]) {
        const key = fa ? 'on' : 'off';
        log(`text ${type}, run ${i + 1}/${runs}: llama-bench pp${promptLength} and tg${decoded} @ d${promptLength}, flash attention ${key} ...`);
        const pp = await llamaBench(tools, { model: pair.text, threads, prompt: promptLength, gen: 0, depth: 0, flashAttention: fa, reps: 1 });
        const tg = await llamaBench(tools, { model: pair.text, threads, prompt: 0, gen: decoded, depth: promptLength, flashAttention: fa, reps: 1 });
        row.llamaCpp.prefill[key].push(pp.tokensPerSecond);
        row.llamaCpp.decode[key].push(tg.tokensPerSecond);
      }
    }
    report.text.push(row);
  }
}

if (stages.has('profile')) {
  const type = types.includes('q4_0') ? 'q4_0' : types[0]!;
  const pair = await pairOf(type);
  log(`profile: one answer with ${type}, op by op ...`);
  const result = await ours({ kind: 'profile', ...pair, image, threads, maxTokens: answerTokens });
  if (result.kind !== 'profile') throw new Error('unexpected child result');
  report.profile = { type, ...result.result };
}

log('probing this machine again ...');
report.probe = summarizeProbes([...probes, ...(await runProbes(threads, 3))]);

const rendered = renderReport(report);
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'bench.md'), rendered.markdown);
writeFileSync(join(outDir, 'bench.json'), JSON.stringify({ ...report, summary: rendered.summary }, null, 2));
if (rendered.chart.length > 0) {
  writeFileSync(join(outDir, 'bench.png'), await chartPng(`moondream-ggml vs llama.cpp ${tools.commit.slice(0, 7)}, ${threads} threads, ${isa}`, rendered.chart));
}
process.stdout.write(json ? `${JSON.stringify({ ...report, summary: rendered.summary }, null, 2)}\n` : rendered.markdown);
log(`wrote ${join(outDir, 'bench.md')}, bench.json${rendered.chart.length > 0 ? ' and bench.png' : ''}`);
