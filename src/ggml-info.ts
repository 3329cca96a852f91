import { addon } from './binding.js';

export interface GgmlInfo {
  /** llama.cpp commit the vendored ggml was extracted from (vendor/ggml.pin.json). */
  ggmlCommit: string;
  ggmlVersion: string;
  /** CPU features ggml was built with and this CPU has: AVX2, FMA, F16C, AVX512, NEON, ... */
  cpuFeatures: Readonly<Record<string, boolean>>;
  physicalCores: number;
  logicalCpus: number;
  /** Thread count used when none is given: the physical core count. */
  defaultThreads: number;
}

/** Facts about the ggml build and this machine. */
export function ggmlInfo(): GgmlInfo {
  return addon().ggmlInfo();
}
