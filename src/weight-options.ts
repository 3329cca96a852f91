// The load options that choose where matmul weights live (LoadParams::repack_weights and
// vnni_kernel in native/include/moondream.h), validated before they cross into C++.
import { optionalBoolean, optionsObject } from './options.js';

export interface WeightOptions {
  /**
   * Copy matmul weights that ggml has a faster CPU layout for (q4_0, q4_K, ... on AVX2) into it at
   * load, as llama.cpp does. Default true; false keeps them memory-mapped as stored (less memory,
   * slower prefill). The environment variable MOONDREAM_DISABLE_REPACK=1 forces false.
   */
  repackWeights?: boolean;
  /**
   * Multiply q8_0 and q4_0 weights with our AVX-512 VNNI kernel on CPUs that have it (weights are
   * repacked for it at load; elsewhere this changes nothing). Default true; false leaves them to
   * ggml's kernels. The environment variable MOONDREAM_DISABLE_VNNI_MATRIX=1 forces false.
   */
  vnniKernel?: boolean;
}

export function weightOptions(value: unknown): WeightOptions {
  const o = optionsObject(value, 'options');
  const out: WeightOptions = {};
  const repackWeights = optionalBoolean(o.repackWeights, 'options.repackWeights');
  const vnniKernel = optionalBoolean(o.vnniKernel, 'options.vnniKernel');
  if (repackWeights !== undefined) out.repackWeights = repackWeights;
  if (vnniKernel !== undefined) out.vnniKernel = vnniKernel;
  return out;
}
