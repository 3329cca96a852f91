// node-llama-cpp (llama.cpp's prebuilt CPU binaries, pinned at 3.21.1) as an oracle: the next-token
// distribution and greedy continuations for a text GGUF.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Llama, LlamaModel } from 'node-llama-cpp';
import { ggmlInfo } from '../../src/ggml-info.js';

let llama: Promise<Llama> | undefined;

export function oracle(): Promise<Llama> {
  llama ??= loadOracle();
  return llama;
}

/**
 * node-llama-cpp, running the same ggml CPU variant as our addon when ours was chosen at run time
 * (a portable build). Both ship ggml's variants under the same names, but node-llama-cpp always loads
 * the best one for the CPU from its binary folder; under MOONDREAM_CPU_LEVEL=avx2 on an AMX machine
 * it would compare its sapphirerapids arithmetic with our haswell arithmetic, while the parity bounds
 * are set for like against like. So the oracle is imported from a private copy of node-llama-cpp and
 * its binary package whose folder holds only that variant (oracleTree).
 */
async function loadOracle(): Promise<Llama> {
  const variant = ourCpuVariant();
  const tree = variant === undefined ? undefined : oracleTree(variant);
  const entry = tree === undefined ? 'node-llama-cpp' : pathToFileURL(join(tree, 'node-llama-cpp', 'dist', 'index.js')).href;
  const { getLlama } = (await import(entry)) as typeof import('node-llama-cpp');
  return getLlama({ gpu: false, build: 'never', logLevel: 'error' as never });
}

function ourCpuVariant(): string | undefined {
  const backend = ggmlInfo().cpuBackend;
  return backend.runtimeSelected && backend.error === undefined ? backend.variant : undefined;
}

/**
 * A node_modules folder inside build/llama-cpp-oracle/<version>-<variant>/ holding copies of
 * node-llama-cpp and its binary package (node_modules itself is never touched: other test processes
 * are reading it), with every `libggml-cpu-*.so` but
 * the variant's removed. It sits in the project so node-llama-cpp's own
 * dependencies still resolve from the project's node_modules. Built once, by rename, so concurrent
 * test processes agree. Undefined when node-llama-cpp ships no such variant.
 */
function oracleTree(variant: string): string | undefined {
  const require = createRequire(import.meta.url);
  const binaryPackage = `@node-llama-cpp/${process.platform}-${process.arch}`;
  let sources: { main: string; binaries: string };
  try {
    // Both packages export only their entry (dist/index.js); the package folder is two levels up.
    sources = {
      main: dirname(dirname(require.resolve('node-llama-cpp'))),
      binaries: dirname(dirname(require.resolve(binaryPackage))),
    };
  } catch {
    return undefined;
  }
  const library = `libggml-cpu-${variant}.so`;
  const binFolders = readdirSync(join(sources.binaries, 'bins')).map((name) => join('bins', name));
  if (!binFolders.some((folder) => existsSync(join(sources.binaries, folder, library)))) return undefined;

  const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  // Keyed by node-llama-cpp's version too, so an upgrade never reuses an older copy.
  const version = (JSON.parse(readFileSync(join(sources.main, 'package.json'), 'utf8')) as { version: string }).version;
  const tree = join(projectRoot, 'build', 'llama-cpp-oracle', `${version}-${variant}`, 'node_modules');
  if (existsSync(join(tree, binaryPackage, 'package.json'))) return tree;
  const staging = `${tree}.${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(join(staging, '@node-llama-cpp'), { recursive: true });
  cpSync(sources.main, join(staging, 'node-llama-cpp'), { recursive: true, dereference: true, filter: notSourceBundle });
  cpSync(sources.binaries, join(staging, binaryPackage), { recursive: true, dereference: true });
  for (const folder of binFolders) {
    for (const file of readdirSync(join(staging, binaryPackage, folder))) {
      if (file.startsWith('libggml-cpu-') && file !== library) rmSync(join(staging, binaryPackage, folder, file));
    }
  }
  try {
    renameSync(staging, tree);
  } catch {
    rmSync(staging, { recursive: true, force: true }); // another process built it first
  }
  return tree;
}

/** Copies node-llama-cpp without its 34 MB llama.cpp source bundle, which a prebuilt binary never reads. */
function notSourceBundle(source: string): boolean {
  return !source.endsWith('gitRelease.bundle');
}

/** The ggml CPU variant node-llama-cpp runs: ours when ours was chosen at run time, else its best for this CPU. */
export function oracleCpuVariant(): string {
  const variant = ourCpuVariant();
  return variant !== undefined && oracleTree(variant) !== undefined ? variant : 'its best for this CPU';
}

export interface OracleModel {
  probabilities(tokens: readonly number[]): Promise<Map<number, number>>;
  greedy(tokens: readonly number[], count: number): Promise<number[]>;
  dispose(): Promise<void>;
}

export async function loadOracleModel(path: string, threads = 2, flashAttention = false): Promise<OracleModel> {
  const model: LlamaModel = await (await oracle()).loadModel({ modelPath: path });
  const context = await model.createContext({ contextSize: 2048, threads, flashAttention });
  const sequence = context.getSequence();
  return {
    async probabilities(tokens) {
      await sequence.clearHistory();
      for await (const item of sequence.evaluateWithMetadata([...tokens] as never[], { probabilities: true })) {
        return item.probabilities as Map<number, number>;
      }
      throw new Error('node-llama-cpp returned no distribution');
    },
    async greedy(tokens, count) {
      await sequence.clearHistory();
      const out: number[] = [];
      for await (const token of sequence.evaluate([...tokens] as never[], { temperature: 0 })) {
        out.push(token as number);
        if (out.length >= count) break;
      }
      return out;
    },
    async dispose() {
      await context.dispose();
      await model.dispose();
    },
  };
}

/** Softmax of logits, as probabilities by token id. */
export function softmax(logits: Float32Array): Float64Array {
  let max = -Infinity;
  for (const l of logits) max = Math.max(max, l);
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += (out[i] = Math.exp(logits[i]! - max));
  for (let i = 0; i < out.length; i++) out[i]! /= sum;
  return out;
}

/** The prompts parity checks use: BOS alone, the image tags, moondream1's question tail, some
 *  English with a whitespace token, and 120 spread-out ids. */
export const PARITY_PROMPTS: readonly number[][] = [
  [50256],
  [50256, 27, 9060, 29],
  [3556, 9060, 29, 198, 198, 24361, 25, 1867, 318, 262, 3670, 286, 428, 1492, 30, 198, 198, 33706, 25, 220],
  [50256, 464, 2068, 7586, 21831, 18045, 625, 262, 16931, 3290, 13, 50286, 15496],
  Array.from({ length: 120 }, (_, i) => (i * 7919 + 13) % 50257),
];
