// One measurement of moondream-ggml in a process of its own, so each starts cold (a fresh load,
// as a user's process would), its peak RSS is its own, and the benchmark can run it with another
// build of the addon (MOONDREAM_GGML_ADDON / MOONDREAM_GGML_BINARY) and a CPU level cap:
//   node dist/scripts/bench/child.js '{"kind":"text",...}'   prints one JSON object on stdout
import { performance } from 'node:perf_hooks';
import { Moondream, ggmlInfo, probeMachine, type OpTime } from '../../src/index.js';
import { answerTimings, servedTimings, type AnswerTimings, type ServedTimings } from './answer.js';
import { benchPrompt } from './text.js';
import { benchPixels } from './vision.js';

export type ChildJob =
  | { kind: 'text'; text: string; threads: number; promptLength: number; decoded: number }
  | { kind: 'vision'; text: string; mmproj: string; threads: number; reps: number }
  | { kind: 'answer'; text: string; mmproj: string; image: string; threads: number; maxTokens: number }
  | { kind: 'served'; text: string; mmproj: string; earlierImage: string; image: string; threads: number; maxTokens: number }
  | { kind: 'profile'; text: string; mmproj: string; image: string; threads: number; maxTokens: number }
  | { kind: 'load'; text: string; mmproj: string; threads: number }
  | { kind: 'vision-error'; text: string; reference: string; mmproj: Record<string, string>; threads: number };

/** A load of the pair and nothing else, and what the packed-weight cache did in it. */
export interface LoadChildResult { loadMs: number; packedCache: string }
/** readAround: the read bandwidth measured just before the timed prompt and just after its decode, bytes/s. */
export interface TextChildResult { loadMs: number; prefillMs: number; decodeMs: number; decodeSteps: number; readAround: [number, number] }
export interface VisionChildResult { loadMs: number; warmupMs: number; encodeMs: number[] }
/** Each mmproj's image embeddings against the reference mmproj's (the f32 one): relative RMS. */
export interface VisionErrorChildResult { relativeRms: Record<string, number> }
/** One answer with every graph run op by op (profileOps): where its time goes. */
export interface ProfileChildResult { ops: OpTime[]; promptPositions: number; decodedTokens: number; encodeMs: number; prefillMs: number; decodeMs: number }
export type ChildResult = (
  | { kind: 'text'; result: TextChildResult }
  | { kind: 'vision'; result: VisionChildResult }
  | { kind: 'answer'; result: AnswerTimings }
  | { kind: 'served'; result: ServedTimings }
  | { kind: 'profile'; result: ProfileChildResult }
  | { kind: 'load'; result: LoadChildResult }
  | { kind: 'vision-error'; result: VisionErrorChildResult }
) & {
  peakRssBytes: number;
  /** The CPU features the loaded addon's ggml uses (the avx2 mode checks that AVX-512 is off). */
  ggmlFeatures: string[];
  /** Our kernels this process chose (ggmlInfo().kernels). */
  kernels: string[];
  /** ggml's CPU backend in use: 'native', or a portable build's variant ('zen4', 'haswell', ...). */
  cpuVariant: string;
};

async function textJob(job: Extract<ChildJob, { kind: 'text' }>): Promise<TextChildResult> {
  const start = performance.now();
  const md = await Moondream.load({ text: job.text }, { threads: job.threads });
  try {
    const loadMs = performance.now() - start;
    // A warm-up run of the same prompt first, as llama-bench runs one before its repetitions (its
    // figures are of a context whose KV cache and buffers are already in memory); a prompt of
    // tokens is prefilled anew each time (only image prefixes are kept).
    await md.generate(benchPrompt(job.promptLength), { maxTokens: 2 });
    // The read bandwidth right before and right after: on a shared host it moves within minutes,
    // so decode is also judged against what memory gave around its own run.
    const readNow = async () => (await probeMachine({ threads: job.threads, readBytes: 256 * 2 ** 20 })).readBytesPerSecond;
    const readBefore = await readNow();
    // No stop tokens: exactly decoded + 1 tokens, the first from the prefill's logits.
    const { tokens, timings } = await md.generate(benchPrompt(job.promptLength), { maxTokens: job.decoded + 1 });
    const readAfter = await readNow();
    return { loadMs, prefillMs: timings.prefillMs, decodeMs: timings.decodeMs, decodeSteps: tokens.length - 1, readAround: [readBefore, readAfter] };
  } finally {
    md.dispose();
  }
}

async function loadJob(job: Extract<ChildJob, { kind: 'load' }>): Promise<LoadChildResult> {
  const start = performance.now();
  const md = await Moondream.load({ text: job.text, mmproj: job.mmproj }, { threads: job.threads });
  const loadMs = performance.now() - start;
  const packedCache = md.info.packedCache.text;
  md.dispose();
  return { loadMs, packedCache };
}

async function visionJob(job: Extract<ChildJob, { kind: 'vision' }>): Promise<VisionChildResult> {
  const start = performance.now();
  const md = await Moondream.load({ text: job.text, mmproj: job.mmproj }, { threads: job.threads });
  try {
    const loadMs = performance.now() - start;
    const pixels = benchPixels(md.info.vision?.imageSize ?? 378);
    // The first encode allocates the graph's buffers; llama.cpp's figure is after its warm-up too.
    const warmupMs = (await md.encodePixels(pixels)).encodeMs;
    const encodeMs: number[] = [];
    for (let i = 0; i < job.reps; i++) encodeMs.push((await md.encodePixels(pixels)).encodeMs);
    return { loadMs, warmupMs, encodeMs };
  } finally {
    md.dispose();
  }
}

/** The embeddings of the bench image through `mmproj`. */
async function embeddings(text: string, mmproj: string, threads: number): Promise<Float32Array> {
  const md = await Moondream.load({ text, mmproj }, { threads });
  try {
    return (await md.encodePixels(benchPixels(md.info.vision?.imageSize ?? 378))).embeddings;
  } finally {
    md.dispose();
  }
}

async function visionErrorJob(job: Extract<ChildJob, { kind: 'vision-error' }>): Promise<VisionErrorChildResult> {
  const reference = await embeddings(job.text, job.reference, job.threads);
  const relativeRms: Record<string, number> = {};
  for (const [name, mmproj] of Object.entries(job.mmproj)) {
    const values = await embeddings(job.text, mmproj, job.threads);
    let difference = 0;
    let norm = 0;
    for (let i = 0; i < reference.length; i++) {
      difference += (values[i]! - reference[i]!) ** 2;
      norm += reference[i]! ** 2;
    }
    relativeRms[name] = Math.sqrt(difference / norm);
  }
  return { relativeRms };
}

async function profileJob(job: Extract<ChildJob, { kind: 'profile' }>): Promise<ProfileChildResult> {
  const md = await Moondream.load({ text: job.text, mmproj: job.mmproj }, { threads: job.threads, profileOps: true });
  try {
    // A first encode and answer build and allocate the graphs; the profile is of the second pair,
    // on a session of its own so that no image prefix is reused.
    await md.answer(await md.encodeImage(job.image), 'What is in this picture?', { maxTokens: 2 });
    md.takeOpProfile();
    const encoded = await md.encodeImage(job.image);
    const session = md.createSession();
    const answer = await session.answer(encoded, 'What is the title of this book?', { maxTokens: job.maxTokens });
    session.dispose();
    return {
      ops: md.takeOpProfile(),
      promptPositions: answer.timings.promptPositions,
      decodedTokens: Math.max(0, answer.tokens.length - 1),
      encodeMs: encoded.timings.totalMs,
      prefillMs: answer.timings.prefillMs,
      decodeMs: answer.timings.decodeMs,
    };
  } finally {
    md.dispose();
  }
}

const job = JSON.parse(process.argv[2] ?? '{}') as ChildJob;
const common = () => ({
  peakRssBytes: process.resourceUsage().maxRSS * 1024,
  ggmlFeatures: Object.entries(ggmlInfo().cpuFeatures).filter(([, on]) => on).map(([name]) => name),
  kernels: ggmlInfo().kernels.filter((k) => k.chosen).map((k) => k.name),
  cpuVariant: ggmlInfo().cpuBackend.variant,
});
let out: ChildResult;
if (job.kind === 'text') out = { kind: 'text', result: await textJob(job), ...common() };
else if (job.kind === 'vision') out = { kind: 'vision', result: await visionJob(job), ...common() };
else if (job.kind === 'vision-error') out = { kind: 'vision-error', result: await visionErrorJob(job), ...common() };
else if (job.kind === 'load') out = { kind: 'load', result: await loadJob(job), ...common() };
else if (job.kind === 'profile') out = { kind: 'profile', result: await profileJob(job), ...common() };
else if (job.kind === 'answer') out = { kind: 'answer', result: await answerTimings(job, job.image, job.threads, job.maxTokens), ...common() };
else if (job.kind === 'served') out = { kind: 'served', result: await servedTimings(job, job.earlierImage, job.image, job.threads, job.maxTokens), ...common() };
else throw new Error(`unknown job ${JSON.stringify(job)}`);
process.stdout.write(JSON.stringify(out));
