import { addon, addonLocation } from './binding.js';

/** One of ggml's CPU backend variant libraries a portable build found beside its addon. */
export interface CpuVariantCandidate {
  /** 'haswell', 'skylakex', 'sapphirerapids', ... */
  name: string;
  file: string;
  /** ggml's score of the variant on this CPU; 0 when the CPU lacks an instruction it needs. */
  score: number;
  /** 'chosen', 'not supported by this CPU', 'above MOONDREAM_CPU_LEVEL=avx2', 'runs here, lower score', ... */
  verdict: string;
}

/** Which ggml CPU backend this process runs, and why. */
export interface CpuBackendInfo {
  /** True for a portable build, whose CPU backend is a variant library chosen at run time. */
  runtimeSelected: boolean;
  /** The variant in use ('icelake', ...); 'native' for a native build's built-in backend. */
  variant: string;
  /** The variant's library; '' for a native build. */
  file: string;
  /** MOONDREAM_CPU_LEVEL in effect; '' when unset. */
  cpuLevel: string;
  reason: string;
  candidates: readonly CpuVariantCandidate[];
  /** Why no CPU backend could be loaded; models cannot load then. */
  error?: { code: string; message: string };
}

/** One of our own kernels chosen by CPUID at run time. */
export interface KernelChoice {
  /**
   * 'vnni_matrix': q8_0/q4_0 matmuls with AVX-512 VNNI (native/src/vnni_matrix.h); 'f16_matrix': f16
   * matmuls with AVX-512 (f16_matrix.h); 'bf16_matrix': bf16 matmuls (a bf16 mmproj) with AVX-512 BF16
   * (avx512_bf16_gemm.h; MOONDREAM_DISABLE_BF16_MATRIX=1 widens them to f32 instead); 'vision_attention' (vision_attention.h); 'decode_attention'
   * (decode_attention.h); 'prefill_attention' (prefill_attention.h); 'gelu_table': the text model's
   * fast GELU, vectorised (gelu_table.h). Each needs MOONDREAM_CPU_LEVEL at avx512 or above (or unset);
   * 'amx_matrix' needs amx. Their AVX2 counterparts, chosen where the AVX-512 kernel cannot run and
   * MOONDREAM_CPU_LEVEL allows avx2: 'int8_matrix_avx2' (avx2_int8.h), 'f16_matrix_avx2' (avx2_gemm.h),
   * 'vision_attention_avx2', 'decode_attention_avx2', 'prefill_attention_avx2'.
   */
  name: string;
  chosen: boolean;
  reason: string;
}

export interface GgmlInfo {
  /** llama.cpp commit the vendored ggml was extracted from (vendor/ggml.pin.json). */
  ggmlCommit: string;
  ggmlVersion: string;
  /** CPU features ggml's loaded CPU backend was built with and this CPU has: AVX2, FMA, F16C, AVX512, NEON, ... */
  cpuFeatures: Readonly<Record<string, boolean>>;
  physicalCores: number;
  logicalCpus: number;
  /** Thread count used when none is given: the physical core count. */
  defaultThreads: number;
  /** The addon file in use and where it came from: 'source build', '@moondream-ggml/linux-x64-gnu@0.1.0', 'MOONDREAM_GGML_BINARY'. */
  addon: { path: string; origin: string };
  cpuBackend: CpuBackendInfo;
  kernels: readonly KernelChoice[];
}

/** Facts about the ggml build and this machine. */
export function ggmlInfo(): GgmlInfo {
  const native = addon();
  const { kernels, error, ...backend } = native.cpuBackend();
  return {
    ...native.ggmlInfo(),
    addon: addonLocation(),
    cpuBackend: error === null ? backend : { ...backend, error },
    kernels,
  };
}
