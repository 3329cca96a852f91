// llama.cpp's own tools, built by scripts/build-llama-cpp.mjs from the pinned bundle our ggml
// comes from, run on the same GGUF files with the same thread count in the same benchmark run.
import { fileURLToPath } from 'node:url';
import { runMeasured, type MeasuredRun, type TimedLine } from './measured-process.js';

export type LlamaCppVariant = 'native' | 'avx2';

export interface LlamaCppTools {
  variant: LlamaCppVariant;
  commit: string;
  binaries: { 'llama-bench': string; 'llama-mtmd-cli': string };
}

interface BuildModule {
  buildLlamaCpp(options: { variant: string; targets: string[]; log: (line: string) => void }): Promise<{
    variant: string; commit: string; binaries: Record<string, string>;
  }>;
}

export async function llamaCppTools(variant: LlamaCppVariant, log: (line: string) => void): Promise<LlamaCppTools> {
  // dist/scripts/bench/ -> the repository's scripts/ (the .mjs is not compiled into dist).
  const script = new URL('../../../scripts/build-llama-cpp.mjs', import.meta.url);
  const { buildLlamaCpp } = (await import(fileURLToPath(script))) as BuildModule;
  const built = await buildLlamaCpp({ variant, targets: ['llama-bench', 'llama-mtmd-cli'], log });
  return {
    variant,
    commit: built.commit,
    binaries: { 'llama-bench': built.binaries['llama-bench']!, 'llama-mtmd-cli': built.binaries['llama-mtmd-cli']! },
  };
}

function failure(what: string, run: MeasuredRun): Error {
  const tail = (run.stderr + run.stdout).split('\n').slice(-25).join('\n');
  return new Error(`${what} failed (exit ${run.status}):\n${tail}`);
}

// ---- llama-bench --------------------------------------------------------------------------------

export interface LlamaBenchSpeed {
  flashAttention: boolean;
  /** Median of the repetitions' tokens per second. */
  tokensPerSecond: number;
  samples: number[];
}

/**
 * One llama-bench test: `prompt` tokens prefilled (pp) or `gen` tokens decoded after `depth`
 * positions (tg @ d), `reps` repetitions after llama-bench's own warm-up run.
 */
export async function llamaBench(tools: LlamaCppTools, o: {
  model: string; threads: number; prompt: number; gen: number; depth: number; flashAttention: boolean; reps: number;
}): Promise<LlamaBenchSpeed> {
  const args = ['-m', o.model, '-t', String(o.threads), '-p', String(o.prompt), '-n', String(o.gen), '-d', String(o.depth),
    '-fa', o.flashAttention ? 'on' : 'off', '-r', String(o.reps), '-o', 'json'];
  const run = await runMeasured(tools.binaries['llama-bench'], args);
  if (run.status !== 0) throw failure(`llama-bench ${args.join(' ')}`, run);
  const tests = JSON.parse(run.stdout) as { samples_ts?: number[]; avg_ts?: number }[];
  const test = tests[0];
  if (!test) throw new Error(`llama-bench ${args.join(' ')} printed no result`);
  const samples = test.samples_ts ?? (test.avg_ts !== undefined ? [test.avg_ts] : []);
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const tokensPerSecond = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { flashAttention: o.flashAttention, tokensPerSecond, samples };
}

// ---- llama-mtmd-cli -----------------------------------------------------------------------------

export interface MtmdRun {
  flashAttention: boolean;
  /** Process start to the start of the image encode: load, and llama.cpp's warm-up encode. */
  readyMs: number;
  /** The vision encoder on the image ("image slice encoded in"). */
  encodeMs: number;
  /** The image rows through the text model ("image decoded ... in"). */
  imagePrefillMs: number;
  imageRows: number;
  /** Start of the encode to the last generated token: what one request costs a loaded model. */
  requestMs: number;
  /** Decode steps per second, from llama.cpp's own perf report. */
  decodeTokensPerSecond: number;
  generatedTokens: number;
  wallMs: number;
  peakRssBytes: number;
}

/** The time of a log line: llama.cpp's own timestamp ("m.ss.mmm.uuu" since start) when it
 *  prints one, else when the line arrived. */
function lineMs(line: TimedLine): number {
  const m = /^(\d+)\.(\d{2})\.(\d{3})\.(\d{3}) /.exec(line.text);
  return m ? Number(m[1]) * 60000 + Number(m[2]) * 1000 + Number(m[3]) + Number(m[4]) / 1000 : line.ms;
}

function linesMatching(lines: TimedLine[], pattern: RegExp): { line: TimedLine; match: RegExpExecArray }[] {
  const out: { line: TimedLine; match: RegExpExecArray }[] = [];
  for (const line of lines) {
    const match = pattern.exec(line.text);
    if (match) out.push({ line, match });
  }
  return out;
}

/**
 * One fresh llama-mtmd-cli process: load both files, encode the image, prefill it and the
 * question, generate exactly `tokens` tokens greedily (EOS ignored). The file carries no chat
 * template, so vicuna's (a short one, as ours) is used.
 */
export async function mtmdRun(tools: LlamaCppTools, o: {
  text: string; mmproj: string; image: string; question: string; threads: number; tokens: number; flashAttention: boolean;
}): Promise<MtmdRun> {
  const args = ['-m', o.text, '--mmproj', o.mmproj, '--image', o.image, '-p', o.question, '-n', String(o.tokens),
    '-t', String(o.threads), '-c', '2048', '--temp', '0', '--ignore-eos', '--chat-template', 'vicuna',
    '-fa', o.flashAttention ? 'on' : 'off', '--no-mmproj-offload', '-lv', '4'];
  const run = await runMeasured(tools.binaries['llama-mtmd-cli'], args);
  if (run.status !== 0) throw failure(`llama-mtmd-cli ${args.join(' ')}`, run);
  const first = (pattern: RegExp) => linesMatching(run.lines, pattern)[0];
  const begin = first(/encoding mtmd batch|encoding image slice/);
  const encoded = first(/mtmd batch encoding done in (\d+) ms|image slice encoded in (\d+) ms/);
  const decoded = linesMatching(run.lines, /image decoded \(batch \d+\/\d+\) in (\d+) ms/);
  const rows = linesMatching(run.lines, /decoding image batch \d+\/\d+, n_tokens_batch = (\d+)/);
  const perf = first(/(?<!prompt )eval time =\s*([\d.]+) ms \/\s*(\d+) runs/);
  const end = first(/llama_perf_context_print/);
  if (!begin || !encoded || decoded.length === 0 || !perf || !end) {
    throw new Error(`llama-mtmd-cli printed no stage timings; its output ends:\n${(run.stderr + run.stdout).split('\n').slice(-30).join('\n')}`);
  }
  const evalMs = Number(perf.match[1]);
  const evalRuns = Number(perf.match[2]);
  return {
    flashAttention: o.flashAttention,
    readyMs: lineMs(begin.line),
    encodeMs: Number(encoded.match[1] ?? encoded.match[2]),
    imagePrefillMs: decoded.reduce((sum, d) => sum + Number(d.match[1]), 0),
    imageRows: rows.reduce((sum, r) => sum + Number(r.match[1]), 0),
    requestMs: lineMs(end.line) - lineMs(begin.line),
    decodeTokensPerSecond: evalRuns > 0 ? (evalRuns * 1000) / evalMs : NaN,
    generatedTokens: evalRuns + 1,
    wallMs: run.wallMs,
    peakRssBytes: run.peakRssBytes,
  };
}
