// npm run parity:full -- [--checkpoint DIR] [--types f32,f16,q8_0,q4_0] [--threads 2] [--own-attention]
// The text decoder against node-llama-cpp on the FULL-size random model (the tests do the same
// on the tiny one): max |p_ours - p_llama.cpp| over the next-token distribution of 5 prompts, and
// whether 64-token greedy continuations agree. Also the vision tower: f16 and q8_0 mmproj
// embeddings against the f32 mmproj's (max relative difference). Prints a markdown table.
import type { TextType, VisionType } from '../src/convert/quant-types.js';
import { Moondream } from '../src/index.js';
import { fullCheckpoint, fullPair } from './bench/full-models.js';
import { benchPixels } from './bench/vision.js';
import { PARITY_PROMPTS, loadOracleModel, softmax } from './lib/llama-cpp-oracle.js';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const threads = Number(option('--threads', '2'));
const types = option('--types', 'f32,f16,q8_0,q4_0').split(',') as TextType[];
const stages = new Set(option('--stages', 'text,vision').split(','));
const flashAttention = option('--flash-attention', 'on') !== 'off';
// Like for like with llama.cpp: its flash attention keeps value sums in f16, our prefill attention
// in f32 (closer to an all-f32 path; test/model/vision-kernels.test.ts). --own-attention compares
// our default path instead. The native runtime reads this when it builds a text graph.
const ownAttention = process.argv.includes('--own-attention');
if (!ownAttention) process.env.MOONDREAM_DISABLE_PREFILL_ATTENTION = '1';
const log = (line: string) => process.stderr.write(`${line}\n`);
// Generated only if a conversion is missing from the cache.
const checkpoint = () => fullCheckpoint(process.argv.includes('--checkpoint') ? option('--checkpoint', '') : undefined, log);

const PROMPTS = PARITY_PROMPTS;

if (stages.has('text')) {
  console.log(`flash attention ${flashAttention ? 'on' : 'off'} on both sides; prompts through ${ownAttention ? 'our prefill attention' : 'ggml\'s attention, as llama.cpp'}\n`);
  console.log('| text type | max abs probability difference | greedy 64 tokens, 5 prompts | where runs part: step (node-llama-cpp\'s top-2 probability gap there; ours took its #2?) |');
  console.log('|---|---|---|---|');
  for (const type of types) {
    const pair = await fullPair(checkpoint, type, 'f16', log);
    log(`parity ${type} ...`);
    const oracle = await loadOracleModel(pair.text, threads, flashAttention);
    const md = await Moondream.load({ text: pair.text }, { threads, gelu: 'fast', flashAttention });
    let worst = 0;
    let identical = 0;
    const partings: string[] = [];
    for (const prompt of PROMPTS) {
      const theirs = await oracle.probabilities(prompt);
      const ours = softmax(await md.evaluate(prompt));
      for (let id = 0; id < ours.length; id++) worst = Math.max(worst, Math.abs(ours[id]! - (theirs.get(id) ?? 0)));
      const a = await oracle.greedy(prompt, 64);
      const b = (await md.generate(prompt, { maxTokens: 64 })).tokens;
      if (a.join() === b.join()) {
        identical += 1;
        continue;
      }
      // Where the runs part, is it a near-tie? The oracle's distribution after the shared prefix.
      const step = a.findIndex((t, k) => t !== b[k]);
      const ranked = [...(await oracle.probabilities([...prompt, ...a.slice(0, step)])).entries()].sort((x, y) => y[1] - x[1]);
      const gap = ranked[0]![1] - ranked[1]![1];
      partings.push(`${step} (${gap.toExponential(1)}; ${ranked[1]![0] === b[step] ? 'yes' : 'no'})`);
    }
    console.log(`| ${type} | ${worst.toExponential(2)} | ${identical}/5 identical | ${partings.join(', ') || '-'} |`);
    md.dispose();
    await oracle.dispose();
  }
}

if (stages.has('vision')) {
  const pixels = benchPixels();
  const embeddings = new Map<VisionType, Float32Array>();
  for (const vtype of ['f32', 'f16', 'q8_0'] as VisionType[]) {
    const pair = await fullPair(checkpoint, 'q4_0', vtype, log);
    const md = await Moondream.load({ text: pair.text, mmproj: pair.mmproj }, { threads });
    log(`vision ${vtype} ...`);
    embeddings.set(vtype, (await md.encodePixels(pixels)).embeddings);
    md.dispose();
  }
  const reference = embeddings.get('f32')!;
  let scale = 0;
  for (const v of reference) scale = Math.max(scale, Math.abs(v));
  console.log('\n| mmproj | finite | max abs difference / max abs (f32) | RMS difference / RMS (f32) |');
  console.log('|---|---|---|---|');
  let referenceSquares = 0;
  for (const v of reference) referenceSquares += v * v;
  for (const [vtype, values] of embeddings) {
    let worst = 0;
    let squares = 0;
    for (let i = 0; i < values.length; i++) {
      const d = values[i]! - reference[i]!;
      worst = Math.max(worst, Math.abs(d));
      squares += d * d;
    }
    console.log(`| ${vtype} | ${values.every(Number.isFinite)} | ${(worst / scale).toExponential(2)} | ${Math.sqrt(squares / referenceSquares).toExponential(2)} |`);
  }
}
