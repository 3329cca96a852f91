// Turns one benchmark run's measurements into its markdown, its summary (every figure the
// markdown states, with the targets of issue 16 and whether each is met) and its chart. Every
// comparison comes from this run: llama.cpp's figures were measured alternately with ours.
import type { AnswerTimings, ServedTimings } from './answer.js';
import type { ChartStage } from './chart.js';
import type { MtmdRun } from './llama-cpp.js';
import { encodeBoundSeconds, kvBytesAt, prefillRooflineSeconds, requestBound } from './bounds.js';
import { machineLine, type MachineInfo } from './machine-info.js';
import { prefillWork, VISION_SHAPE, visionFlops } from './machine.js';
import { profileLines, type ProfileMeasurement } from './op-profile.js';
import { MAX_PROBE_SPREAD, probeLines, steady, type ProbeSummary } from './probe.js';
import { fmt, median } from './stats.js';

type FaPair<T> = { off: T; on: T };

export interface TextMeasurement {
  type: string;
  /** Bytes decode streams per token from the weights (all but token_embd). */
  weightBytes: number;
  /** Per run, tokens per second. */
  /** Per run; readAround: the read bandwidth measured just before its prompt and just after its decode (absent in older reports). */
  ours: { prefill: number[]; decode: number[]; readAround?: [number, number][] };
  llamaCpp: { prefill: FaPair<number[]>; decode: FaPair<number[]> };
}

export interface AnswerMeasurement {
  type: string;
  ours: (AnswerTimings & { wallMs: number; peakRssBytes: number })[];
  /** Per run, a request on a model that has served one before (absent in older reports). */
  oursServed?: ServedTimings[];
  llamaCpp: FaPair<MtmdRun[]>;
  /**
   * Loads beside the timed runs (whose loads map the packed-weight cache): a first load that packs
   * the weights and writes the cache, and per run a load with the cache off (absent in older reports).
   */
  loads?: { firstMs: number; first: string; uncachedMs: number[] };
  /** The same runs with the opt-in bf16 mmproj (native, first text type only). */
  bf16?: { ours: (AnswerTimings & { wallMs: number; peakRssBytes: number })[]; served: ServedTimings[] };
}

export interface BenchReport {
  version: 2;
  date: string;
  threads: number;
  runs: number;
  isa: 'native' | 'avx2';
  promptLength: number;
  decoded: number;
  answerTokens: number;
  machine: MachineInfo;
  llamaCpp: { commit: string; variant: string };
  files: Record<string, { text: string; mmproj: string; textBytes: number; mmprojBytes: number }>;
  probe: ProbeSummary;
  vision?: {
    type: string; oursEncodeMs: number[]; oursWarmupMs: number; ggmlFeatures: string[];
    /** The opt-in bf16 mmproj (native only): its encodes, the kernel that ran them, and the image
     *  embeddings' relative RMS against the f32 mmproj's, for it and for the f16 default. */
    bf16?: { encodeMs: number[]; kernel: string; relativeRms: { f16: number; bf16: number } };
  };
  answer?: AnswerMeasurement[];
  text?: TextMeasurement[];
  /** One answer run op by op: where the time goes. */
  profile?: ProfileMeasurement;
}

export interface Target {
  stage: string;
  goal: string;
  measured: string;
  /** null: not judged (the probe was not stable, or the stage did not run). */
  met: boolean | null;
  /** For a target not met: what the machine's measured limits allow, from this run's probe. */
  bound?: string;
}

export interface Rendered {
  markdown: string;
  chart: ChartStage[];
  summary: { targets: Target[]; [key: string]: unknown };
}

const RSS_ALLOWANCE = 300e6;

/** "median (min–max)" of a sample, scaled. */
function spread(values: number[], digits: number, scale = 1): string {
  if (values.length === 0) return '–';
  const m = fmt(median(values) / scale, digits);
  if (values.length === 1) return m;
  return `${m} (${fmt(Math.min(...values) / scale, digits)}–${fmt(Math.max(...values) / scale, digits)})`;
}

/** The flash-attention setting with the better median: higher for speeds, lower for times. */
function best(pair: FaPair<number[]>, higherIsBetter: boolean): { value: number; fa: 'off' | 'on' } {
  const off = pair.off.length ? median(pair.off) : NaN;
  const on = pair.on.length ? median(pair.on) : NaN;
  if (Number.isNaN(on) || (higherIsBetter ? off >= on : off <= on)) return { value: off, fa: 'off' };
  return { value: on, fa: 'on' };
}

const ratioText = (x: number) => `${fmt(x)}x`;
const seconds = (ms: number) => fmt(ms / 1000);
const mib = (bytes: number) => fmt(bytes / 2 ** 20, 0);

export function renderReport(r: BenchReport): Rendered {
  const lines: string[] = [];
  const say = (line = '') => lines.push(line);
  const chart: ChartStage[] = [];
  const targets: Target[] = [];
  const summary: Rendered['summary'] = { targets };
  const native = r.isa === 'native';
  const p = r.probe;
  // A fraction of a bound only means something if the probe quantities behind that bound held
  // still, and only for the native build (the probe measures this CPU's widest instructions).
  const compute = native && steady(p.fp32);  // vision: fp32 FMA
  const prefillSteady = native && steady(p.int8) && steady(p.fp32);  // int8 matmuls + fp32 attention
  const decodeSteady = native && steady(p.read);  // weights and KV cache streamed from memory
  const fractionIf = (ok: boolean, x: number) => (ok ? fmt(x) : '–');
  const judge = (stage: string, goal: string, measured: string, met: boolean | null, bound?: string) =>
    targets.push({ stage, goal, measured, met, ...(bound !== undefined && met === false ? { bound } : {}) });

  say(`# moondream-ggml benchmark: ${r.threads} threads, ${r.runs} runs, ${native ? 'native build' : 'AVX2 only (no AVX-512 on either side)'}`);
  say();
  say(`${r.date}. Machine: ${machineLine(r.machine)}.`);
  say();
  say(`llama.cpp: ${r.llamaCpp.commit.slice(0, 7)} (the tree our ggml is pinned to), built here by scripts/build-llama-cpp.mjs, ` +
    `variant ${r.llamaCpp.variant}; run on the same GGUF files with the same thread count, alternately with ours; each stage at its ` +
    'better flash-attention setting (both are listed). Medians, with the range over runs in brackets.');
  if (r.vision) say(`moondream-ggml's ggml uses: ${r.vision.ggmlFeatures.join(' ')}${native ? '' : ' (our AVX-512 kernels off; our AVX2 int8 and f16 kernels on)'}.`);
  say();
  say('Figures vary between machines, and on a shared machine between runs: compare the ratios within one run.');
  say();
  for (const line of probeLines(p)) say(line);

  // ---- vision --------------------------------------------------------------------------------------
  const answerOf = (type: string) => r.answer?.find((a) => a.type === type);
  if (r.vision) {
    const flops = visionFlops(VISION_SHAPE);
    const ours = median(r.vision.oursEncodeMs);
    const theirsRuns = answerOf(r.vision.type)?.llamaCpp;
    const theirs = theirsRuns ? best({ off: theirsRuns.off.map((x) => x.encodeMs), on: theirsRuns.on.map((x) => x.encodeMs) }, false) : null;
    const boundMs = encodeBoundSeconds(p, 'f16') * 1000;
    const gflops = flops / 1e9 / (ours / 1000);
    say();
    say('## vision encode, f16 mmproj (vision tower + projector, one 378x378 image)');
    say();
    say('| | encode s | GFLOP/s | fraction of fp32 FMA peak | vs llama.cpp |');
    say('|---|---|---|---|---|');
    say(`| moondream-ggml (after one warm-up encode) | ${spread(r.vision.oursEncodeMs, 2, 1000)} | ${fmt(gflops, 0)} | ${fractionIf(compute, gflops * 1e9 / p.fp32.value)} | ${theirs ? ratioText(theirs.value / ours) : '–'} |`);
    if (theirsRuns) {
      for (const fa of ['off', 'on'] as const) {
        const ms = theirsRuns[fa].map((x) => x.encodeMs);
        say(`| llama-mtmd-cli, flash attention ${fa} (after its warm-up) | ${spread(ms, 2, 1000)} | ${fmt(flops / 1e6 / median(ms), 0)} | ${fractionIf(compute, flops / (median(ms) / 1000) / p.fp32.value)} | |`);
      }
    }
    const bf16 = r.vision.bf16;
    if (bf16) {
      const bf16Ms = median(bf16.encodeMs);
      say(`| moondream-ggml, bf16 mmproj (opt-in; ${bf16.kernel}) | ${spread(bf16.encodeMs, 2, 1000)} | ${fmt(flops / 1e6 / bf16Ms, 0)} | ${fractionIf(compute, flops / (bf16Ms / 1000) / p.fp32.value)} | ${theirs ? ratioText(theirs.value / bf16Ms) : '–'} |`);
      if (p.bf16 && p.bf16.value > 0) {
        say(`| bound for the bf16 mmproj: the same at the probe's bf16 dot-product peak | ${fmt(flops / p.bf16.value)} | ${fmt(p.bf16.value / 1e9, 0)} | ` +
          `${fractionIf(native && steady(p.bf16), p.bf16.value / p.fp32.value)} | |`);
      }
    }
    say(`| bound: ${fmt(flops / 1e9, 0)} GFLOP at the probe's fp32 FMA peak | ${fmt(boundMs / 1000)} | ${fmt(p.fp32.value / 1e9, 0)} | 1 | |`);
    if (bf16) {
      say();
      if (p.bf16 && p.bf16.value > 0) {
        say(`The bf16 encode reached ${fractionIf(native && steady(p.bf16), flops / (median(bf16.encodeMs) / 1000) / p.bf16.value)} of the bf16 peak ` +
          '(withheld when that probe spread).');
      }
      say(`The image embeddings against the f32 mmproj's, relative RMS on this image: f16 ${bf16.relativeRms.f16.toExponential(1)}, ` +
        `bf16 ${bf16.relativeRms.bf16.toExponential(1)}. VDPBF16PS does two bf16 multiply-adds per lane where an FMA does one, so the ` +
        'bf16 mmproj can pass the fp32 FMA bound; its activations are rounded to bf16 too. f16 stays the default: bf16 is ' +
        'further than 1e-3 from f32. The vs llama.cpp column compares with llama.cpp\'s encode of the f16 file.');
    }
    summary.vision = { oursMs: ours, llamaCppMs: theirs?.value ?? null, llamaCppFa: theirs?.fa ?? null, gflop: flops / 1e9, boundMs,
      bf16Ms: bf16 ? median(bf16.encodeMs) : null, bf16RelativeRms: bf16?.relativeRms ?? null };
    if (theirs) chart.push({ label: 'vision encode, f16 mmproj', oursSeconds: ours / 1000, theirsSeconds: theirs.value / 1000, theirsLabel: `llama.cpp (FA ${theirs.fa})`, boundSeconds: boundMs / 1000 });
    if (native) {
      judge('vision encode, f16 mmproj', '≥ 0.65 of the fp32 FMA peak', compute ? fmt(gflops * 1e9 / p.fp32.value) : 'probe not stable', compute ? gflops * 1e9 / p.fp32.value >= 0.65 : null);
      const needRate = theirs ? flops / (theirs.value / 2.5 / 1000) : NaN;
      judge('vision encode, f16 mmproj', '≥ 2.5x llama.cpp', theirs ? ratioText(theirs.value / ours) : '–', theirs ? theirs.value / ours >= 2.5 : null,
        `2.5x is ${fmt(theirs ? theirs.value / 2.5 / 1000 : NaN)} s: ${fmt(needRate / 1e9, 0)} GFLOP/s, ${fmt(needRate / p.fp32.value)} of the probe's fp32 FMA peak` +
        `${needRate > p.fp32.value ? ' (beyond it)' : ''}; ours ran at ${fmt(gflops * 1e9 / p.fp32.value)} of it`);
      if (bf16 && theirs) {
        const ratio = theirs.value / median(bf16.encodeMs);
        judge('vision encode, bf16 mmproj (opt-in, error ' + bf16.relativeRms.bf16.toExponential(1) + ' against f32)', '≥ 2.5x llama.cpp (its f16 encode)', ratioText(ratio), ratio >= 2.5);
      }
    } else if (theirs) {
      judge('vision encode (AVX2)', '≥ 1x llama.cpp', ratioText(theirs.value / ours), theirs.value / ours >= 1);
    }
  }

  // ---- text ----------------------------------------------------------------------------------------
  const textSummary: Record<string, unknown>[] = [];
  for (const t of r.text ?? []) {
    const work = prefillWork(r.promptLength);
    const quantized = t.type !== 'f32' && t.type !== 'f16';
    const int8 = quantized && p.int8.value > 0;
    const prefillBoundS = work.matmulFlops / (int8 ? p.int8.value : p.fp32.value) + work.attentionFlops / p.fp32.value;
    const prefillBound = r.promptLength / prefillBoundS;
    // The KV cache (f16 keys and values, 24 layers x 2048 wide) up to the middle of the decoded run.
    const kvBytes = kvBytesAt(r.promptLength + r.decoded / 2);
    const tokenBytes = t.weightBytes + kvBytes;
    const decodeBound = p.read.value / tokenBytes;
    // Each run's decode against the read bandwidth measured around it, where those two agreed.
    const around = (t.ours.readAround ?? []).map(([before, after], i) => ({
      read: (before + after) / 2,
      fraction: ((t.ours.decode[i] ?? NaN) * tokenBytes) / ((before + after) / 2),
      steady: Math.abs(before - after) / Math.max(before, after) <= MAX_PROBE_SPREAD,
    }));
    const aroundJudged = around.filter((x) => x.steady).map((x) => x.fraction);
    // The read bandwidth itself around the runs that held: the host's phase those runs met.
    const aroundRead = around.filter((x) => x.steady).map((x) => x.read);
    const aroundSteady = native && aroundJudged.length > 0 && 2 * aroundJudged.length >= around.length;
    const ours = { prefill: median(t.ours.prefill), decode: median(t.ours.decode) };
    const theirs = { prefill: best(t.llamaCpp.prefill, true), decode: best(t.llamaCpp.decode, true) };
    say();
    say(`## text ${t.type}: prefill ${r.promptLength} tokens; decode ${r.decoded} tokens at depth ${r.promptLength}`);
    say();
    say(`| | prefill tok/s | decode tok/s |`);
    say('|---|---|---|');
    say(`| moondream-ggml (fresh process per run, after a warm-up run of the prompt as llama-bench does) | ${spread(t.ours.prefill, 1)} | ${spread(t.ours.decode, 1)} |`);
    for (const fa of ['off', 'on'] as const) {
      say(`| llama-bench pp${r.promptLength} / tg${r.decoded} @ d${r.promptLength}, flash attention ${fa} | ${spread(t.llamaCpp.prefill[fa], 1)} | ${spread(t.llamaCpp.decode[fa], 1)} |`);
    }
    say(`| ratio to llama.cpp's better setting | ${ratioText(ours.prefill / theirs.prefill.value)} (FA ${theirs.prefill.fa}) | ${ratioText(ours.decode / theirs.decode.value)} (FA ${theirs.decode.fa}) |`);
    say(`| machine bound | ${fmt(prefillBound, 1)} | ${fmt(decodeBound, 1)} |`);
    say(`| fraction of the bound | ${fractionIf(prefillSteady, ours.prefill / prefillBound)} | ${fractionIf(decodeSteady, ours.decode / decodeBound)} |`);
    if (around.length) {
      say(`| decode against the read bandwidth measured around its own run (before its prompt, after its decode; runs where the two agreed within ${Math.round(100 * MAX_PROBE_SPREAD)}%) | | ` +
        `${aroundJudged.length ? `${fmt(median(aroundJudged))} (${aroundJudged.length} of ${around.length} runs${aroundJudged.length > 1 ? `, ${fmt(Math.min(...aroundJudged))}–${fmt(Math.max(...aroundJudged))}` : ''})` : '–'} |`);
    }
    const rooflineS = native && int8 ? prefillRooflineSeconds(p, r.promptLength) : null;  // the AVX2 kernels have another mix
    const rooflineSteady = prefillSteady && p.int8Block !== undefined && steady(p.int8Block);
    if (rooflineS !== null) {
      say(`| our kernels' roofline: int8 matmuls with q8_0's per-block scaling (${fmt(p.int8Block!.value / p.int8.value)} of the VNNI peak) + fp32 attention | ` +
        `${fmt(r.promptLength / rooflineS, 1)} | |`);
      say(`| fraction of that roofline | ${fractionIf(rooflineSteady, (ours.prefill * rooflineS) / r.promptLength)} | |`);
    }
    say();
    say(`Bounds: prefill = ${fmt(work.matmulFlops / 1e9, 0)} GOP of ${int8 ? 'int8' : 'fp32'} matmuls at the probe's peak + ${fmt(work.attentionFlops / 1e9, 0)} GFLOP of fp32 attention; ` +
      `decode = ${fmt(tokenBytes / 1e6, 0)} MB read per token (weights + KV cache) at the probe's read bandwidth.`);
    textSummary.push({ type: t.type, ours, llamaCpp: theirs, bound: { prefill: prefillBound, decode: decodeBound } });
    chart.push(
      { label: `prefill ${r.promptLength}, ${t.type}`, oursSeconds: r.promptLength / ours.prefill, theirsSeconds: r.promptLength / theirs.prefill.value, theirsLabel: `llama.cpp (FA ${theirs.prefill.fa})`, boundSeconds: prefillBoundS },
      { label: `decode ${r.decoded} @ ${r.promptLength}, ${t.type}`, oursSeconds: r.decoded / ours.decode, theirsSeconds: r.decoded / theirs.decode.value, theirsLabel: `llama.cpp (FA ${theirs.decode.fa})`, boundSeconds: r.decoded / decodeBound },
    );
    if (native) {
      const ceiling = rooflineS !== null ? prefillBoundS / rooflineS : null;  // the fraction of the int8 bound the roofline allows
      judge(`prefill ${r.promptLength}, ${t.type}`, '≥ 0.85 of the int8 bound', prefillSteady ? fmt(ours.prefill / prefillBound) : 'probe not stable', prefillSteady ? ours.prefill / prefillBound >= 0.85 : null,
        ceiling !== null && rooflineSteady
          ? `at our kernels' roofline (the probe's int8 rate with per-block scaling, ${fmt(p.int8Block!.value / p.int8.value)} of the bare VPDPBUSD rate) and fp32 attention at its peak, ` +
            `a prefill reaches ${fmt(ceiling)} of the int8 bound${ceiling < 0.85 ? ', below 0.85' : ''}; ours ran at ${fmt((ours.prefill * rooflineS!) / r.promptLength)} of that roofline`
          : undefined);
      // The run-wide probe when it held; else the bandwidth measured around each run, when most runs' two measurements agreed.
      const aroundMedian = aroundJudged.length ? median(aroundJudged) : NaN;
      judge(`decode @ ${r.promptLength}, ${t.type}`, '≥ 0.6 of the bandwidth bound',
        decodeSteady ? fmt(ours.decode / decodeBound) : aroundSteady ? `${fmt(aroundMedian)} of the read measured around each run (the run-wide probe spread)` : 'probe not stable',
        decodeSteady ? ours.decode / decodeBound >= 0.6 : aroundSteady ? aroundMedian >= 0.6 : null);
      const needTokens = 1.5 * theirs.decode.value;
      judge(`decode @ ${r.promptLength}, ${t.type}`, '≥ 1.5x llama.cpp', ratioText(ours.decode / theirs.decode.value), ours.decode / theirs.decode.value >= 1.5,
        `1.5x is ${fmt(needTokens, 1)} tok/s, reading ${fmt((needTokens * tokenBytes) / 1e9, 1)} GB/s: ${fmt((needTokens * tokenBytes) / p.read.value)} of the read probe's median ` +
        `(${fmt(p.read.min / 1e9, 1)}–${fmt(p.read.max / 1e9, 1)} GB/s over the run); ours read ${fmt((ours.decode * tokenBytes) / 1e9, 1)} GB/s (median), ` +
        `${fmt((Math.max(...t.ours.decode) * tokenBytes) / 1e9, 1)} in its best run` +
        (aroundRead.length
          ? `; the read measured around our runs was ${fmt(median(aroundRead) / 1e9, 1)} GB/s (median of ${aroundRead.length}), so 1.5x needed ` +
            `${fmt((needTokens * tokenBytes) / median(aroundRead))} of it${needTokens * tokenBytes > median(aroundRead) ? ': beyond the bandwidth of the phase our runs met' : ''}`
          : ''));
    } else {
      judge(`prefill ${r.promptLength}, ${t.type} (AVX2)`, '≥ 1x llama.cpp', ratioText(ours.prefill / theirs.prefill.value), ours.prefill / theirs.prefill.value >= 1);
      judge(`decode @ ${r.promptLength}, ${t.type} (AVX2)`, '≥ 1x llama.cpp', ratioText(ours.decode / theirs.decode.value), ours.decode / theirs.decode.value >= 1);
    }
  }
  if (textSummary.length) summary.text = textSummary;

  // ---- answering -----------------------------------------------------------------------------------
  const answerSummary: Record<string, unknown>[] = [];
  if (r.answer?.length) {
    say();
    say(`## answering: image + question + ${r.answerTokens} tokens, text model + f16 mmproj, every run a fresh process`);
    say();
    say('"request" is what a loaded model pays per request: image to embeddings, prefill, decode. "ready" is process start to the start of the image encode ' +
      '(llama-mtmd-cli runs a warm-up encode in it). Peak RSS is the process\'s high-water mark. ' +
      '"after an earlier request" is a request on a model (a session) that has answered about another image first, in a process of its own: ' +
      'what a running server pays. A first request after load also faults in memory the system hands over for the first time (KV cache, compute scratch), ' +
      'which llama-mtmd-cli pays in its start-up (it clears its cache and runs a warm-up encode); the loaded-model target is judged on the later request.');
    say();
    say('| | ready s | encode s | prompt prefill s | decode tok/s | request s | whole process s | peak RSS MiB |');
    say('|---|---|---|---|---|---|---|---|');
  }
  for (const a of r.answer ?? []) {
    const f = r.files[a.type];
    const fileBytes = f ? f.textBytes + f.mmprojBytes : NaN;
    const o = a.ours;
    say(`| moondream-ggml ${a.type} | ${spread(o.map((x) => x.loadMs), 2, 1000)} | ${spread(o.map((x) => x.encodeMs), 2, 1000)} | ${spread(o.map((x) => x.first.prefillMs), 2, 1000)} | ` +
      `${spread(o.map((x) => x.first.decodeTokensPerSecond), 1)} | ${spread(o.map((x) => x.requestMs), 2, 1000)} | ${spread(o.map((x) => x.wallMs), 2, 1000)} | ${spread(o.map((x) => x.peakRssBytes), 0, 2 ** 20)} |`);
    const served = a.oursServed ?? [];
    if (served.length) {
      say(`| moondream-ggml ${a.type}, after an earlier request | – | ${spread(served.map((x) => x.encodeMs), 2, 1000)} | ${spread(served.map((x) => x.prefillMs), 2, 1000)} | ` +
        `${spread(served.map((x) => x.decodeTokensPerSecond), 1)} | ${spread(served.map((x) => x.requestMs), 2, 1000)} | – | – |`);
    }
    const bf16 = a.bf16;
    if (bf16?.ours.length) {
      const b = bf16.ours;
      say(`| moondream-ggml ${a.type} + bf16 mmproj (opt-in) | ${spread(b.map((x) => x.loadMs), 2, 1000)} | ${spread(b.map((x) => x.encodeMs), 2, 1000)} | ${spread(b.map((x) => x.first.prefillMs), 2, 1000)} | ` +
        `${spread(b.map((x) => x.first.decodeTokensPerSecond), 1)} | ${spread(b.map((x) => x.requestMs), 2, 1000)} | ${spread(b.map((x) => x.wallMs), 2, 1000)} | ${spread(b.map((x) => x.peakRssBytes), 0, 2 ** 20)} |`);
      say(`| moondream-ggml ${a.type} + bf16 mmproj (opt-in), after an earlier request | – | ${spread(bf16.served.map((x) => x.encodeMs), 2, 1000)} | ${spread(bf16.served.map((x) => x.prefillMs), 2, 1000)} | ` +
        `${spread(bf16.served.map((x) => x.decodeTokensPerSecond), 1)} | ${spread(bf16.served.map((x) => x.requestMs), 2, 1000)} | – | – |`);
    }
    for (const fa of ['off', 'on'] as const) {
      const l = a.llamaCpp[fa];
      if (!l.length) continue;
      say(`| llama-mtmd-cli ${a.type}, FA ${fa} | ${spread(l.map((x) => x.readyMs), 2, 1000)} | ${spread(l.map((x) => x.encodeMs), 2, 1000)} | ${spread(l.map((x) => x.imagePrefillMs), 2, 1000)} (image rows) | ` +
        `${spread(l.map((x) => x.decodeTokensPerSecond), 1)} | ${spread(l.map((x) => x.requestMs), 2, 1000)} | ${spread(l.map((x) => x.wallMs), 2, 1000)} | ${spread(l.map((x) => x.peakRssBytes), 0, 2 ** 20)} |`);
    }
    const ours = {
      loadMs: median(o.map((x) => x.loadMs)),
      firstRequestMs: median(o.map((x) => x.requestMs)),
      /** The request a running server pays; the first request after load where that was not measured. */
      requestMs: served.length ? median(served.map((x) => x.requestMs)) : median(o.map((x) => x.requestMs)),
      wallMs: median(o.map((x) => x.wallMs)),
      peakRssBytes: Math.max(...o.map((x) => x.peakRssBytes)),
      repeatedTtftMs: median(o.map((x) => x.repeated.timeToFirstTokenMs)),
    };
    const theirs = {
      request: best({ off: a.llamaCpp.off.map((x) => x.requestMs), on: a.llamaCpp.on.map((x) => x.requestMs) }, false),
      wall: best({ off: a.llamaCpp.off.map((x) => x.wallMs), on: a.llamaCpp.on.map((x) => x.wallMs) }, false),
    };
    answerSummary.push({ type: a.type, ours, llamaCpp: theirs, rssLimitBytes: fileBytes + RSS_ALLOWANCE });
    if (a === r.answer?.[0]) {
      chart.push(
        { label: `image + question + ${r.answerTokens} tokens, loaded, ${a.type}`, oursSeconds: ours.requestMs / 1000, theirsSeconds: theirs.request.value / 1000, theirsLabel: `llama.cpp (FA ${theirs.request.fa})` },
        { label: `the same in a fresh process, ${a.type}`, oursSeconds: ours.wallMs / 1000, theirsSeconds: theirs.wall.value / 1000, theirsLabel: `llama-mtmd-cli (FA ${theirs.wall.fa})` },
      );
    }
    const loadLimit = a.type === 'q4_0' ? 500 : a.type === 'q8_0' ? 800 : null;
    if (native) {
      if (loadLimit !== null) judge(`load to ready, ${a.type} pair`, `≤ ${fmt(loadLimit / 1000, 1)} s`, `${seconds(ours.loadMs)} s`, ours.loadMs <= loadLimit);
      if (a.type === 'q4_0') {
        // Each request target beside the same request with every stage at its bound; the fresh
        // process keeps the rest of its measured wall time: start, load, the repeated question its
        // run also asks, exit.
        const weightBytes = r.text?.find((t) => t.type === a.type)?.weightBytes;
        const positions = o[0]?.first.promptPositions ?? r.profile?.promptPositions;
        const atBounds = (mmproj: 'f16' | 'bf16', goal: number, theirsMs: number, oursMs: number, startMs: number) => {
          const rb = weightBytes !== undefined && positions !== undefined ? requestBound(p, mmproj, positions, r.answerTokens, weightBytes) : null;
          if (rb === null) return undefined;
          const totalMs = rb.totalS * 1000 + startMs;
          const reachable = theirsMs / totalMs;
          return `with every stage at its bound (encode ${fmt(rb.encodeS)} s at the ${mmproj === 'bf16' ? 'bf16' : 'fp32 FMA'} peak, prefill of ${positions} ${fmt(rb.prefillS)} s ` +
            `at our kernels' roofline, ${r.answerTokens} tokens ${fmt(rb.decodeS)} s at the read probe's median${startMs > 0 ? `, the rest of our process (start, load, a repeated question, exit) ${seconds(startMs)} s as measured` : ''}) ` +
            `it takes ${seconds(totalMs)} s: ${ratioText(reachable)}${reachable < goal ? `, below ${goal}x` : ''}; ours took ${fmt(oursMs / totalMs)}x that`;
        };
        judge('image + question + 32 tokens, fresh process, q4_0', '≥ 3x faster than llama-mtmd-cli', ratioText(theirs.wall.value / ours.wallMs), theirs.wall.value / ours.wallMs >= 3,
          atBounds('f16', 3, theirs.wall.value, ours.wallMs, ours.wallMs - ours.firstRequestMs));
        judge(`the same on a loaded model, q4_0${served.length ? ', after an earlier request' : ''}`, '≥ 2.5x llama.cpp',
          `${ratioText(theirs.request.value / ours.requestMs)}${served.length ? ` (first request after load: ${ratioText(theirs.request.value / ours.firstRequestMs)})` : ''}`,
          theirs.request.value / ours.requestMs >= 2.5, atBounds('f16', 2.5, theirs.request.value, ours.requestMs, 0));
        if (bf16?.ours.length && bf16.served.length) {
          const wallMs = median(bf16.ours.map((x) => x.wallMs));
          const firstRequestMs = median(bf16.ours.map((x) => x.requestMs));
          const requestMs = median(bf16.served.map((x) => x.requestMs));
          judge('the same, fresh process, q4_0 + bf16 mmproj (opt-in)', '≥ 3x faster than llama-mtmd-cli (its f16 mmproj)', ratioText(theirs.wall.value / wallMs), theirs.wall.value / wallMs >= 3,
            atBounds('bf16', 3, theirs.wall.value, wallMs, wallMs - firstRequestMs));
          judge('the same on a loaded model, q4_0 + bf16 mmproj (opt-in), after an earlier request', '≥ 2.5x llama.cpp (its f16 mmproj)', ratioText(theirs.request.value / requestMs), theirs.request.value / requestMs >= 2.5,
            atBounds('bf16', 2.5, theirs.request.value, requestMs, 0));
        }
        judge('peak RSS of that process, q4_0', `≤ files + 300 MB = ${mib(fileBytes + RSS_ALLOWANCE)} MiB`, `${mib(ours.peakRssBytes)} MiB`, ours.peakRssBytes <= fileBytes + RSS_ALLOWANCE);
      }
    } else {
      judge(`image + question + 32 tokens, fresh process, ${a.type} (AVX2)`, '≥ 1x llama-mtmd-cli', ratioText(theirs.wall.value / ours.wallMs), theirs.wall.value / ours.wallMs >= 1);
      judge(`the same on a loaded model, ${a.type} (AVX2)`, '≥ 1x llama.cpp', ratioText(theirs.request.value / ours.requestMs), theirs.request.value / ours.requestMs >= 1);
    }
  }
  const withLoads = (r.answer ?? []).filter((a) => a.loads);
  if (withLoads.length) {
    say();
    say('Load to ready by the packed-weight cache (`packedWeightCache`): the timed runs above load the weights packed for our kernels from the cache file an earlier load wrote; ' +
      'with the cache off every load packs them again; the first load of a model file packs them straight into a new cache file.');
    say();
    say('| | cache present (the runs above) s | cache off s | first load, writing the cache s |');
    say('|---|---|---|---|');
    for (const a of withLoads) {
      say(`| moondream-ggml ${a.type} | ${spread(a.ours.map((x) => x.loadMs), 2, 1000)} | ${spread(a.loads!.uncachedMs, 2, 1000)} | ${seconds(a.loads!.firstMs)}${a.loads!.first.startsWith('written') ? '' : ` (the cache was ${a.loads!.first || 'not used'})`} |`);
    }
  }
  if (answerSummary.length) {
    summary.answer = answerSummary;
    say();
    say('A second question on the same image reuses the kept image prefix: ' +
      answerSummary.map((a) => `${a.type} ${seconds((a.ours as { repeatedTtftMs: number }).repeatedTtftMs)} s to its first token`).join(', ') +
      ' (llama-mtmd-cli has no such cache and prefills the image again).');
  }

  // ---- where the time goes ---------------------------------------------------------------------------
  if (r.profile) {
    const profiled = profileLines(r.profile, p, { fp32: compute, int8: native && steady(p.int8) });
    say();
    for (const line of profiled.lines) say(line);
    summary.profile = profiled.summary;
  }

  // ---- targets -------------------------------------------------------------------------------------
  if (targets.length) {
    say();
    say(native ? '## targets (issue 16)' : '## without AVX-512: every stage at least as fast as llama.cpp');
    say();
    say('| stage | target | measured | met | for a target not met: what the measured limits allow |');
    say('|---|---|---|---|---|');
    for (const t of targets) say(`| ${t.stage} | ${t.goal} | ${t.measured} | ${t.met === null ? 'not judged' : t.met ? 'yes' : '**no**'} | ${t.bound ?? ''} |`);
    if (targets.some((t) => t.met === false)) {
      say();
      say('The last column divides this run\'s work counts by this run\'s probe: a target beyond what the machine allows says so, and one within it says how far ours is. ' +
        (r.profile ? '"Where the time goes" above shows each op\'s share of its stage and the rate its kernel reached against the probe\'s peak.' : ''));
    }
  }
  return { markdown: lines.join('\n') + '\n', chart, summary };
}
