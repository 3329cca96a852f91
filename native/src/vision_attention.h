// The vision tower's self-attention (all 729 positions attend to all, 16 heads of 72) as one op.
//
// ggml runs it as permutes, two batched f32 mul_mats and a softmax: with head_dim 72 and 729
// keys no k is a multiple of 16, so llamafile's sgemm declines both products and ggml falls back
// to one dot product per output, a quarter of an encode's time for a tenth of its FLOPs (its
// flash attention's tiled path wants head_dim % 16 == 0 too). Here each head takes the blocked
// product of avx512_gemm.h twice: S = scale Q K^T, a row softmax, then O^T = V^T P^T (the values
// packed by d, the probabilities converted by query), written straight into the [e, n] layout the
// output projection reads. Heads are shared among the threads. Without AVX-512 the same plan runs
// on avx2_gemm.h.
#pragma once

#include "ggml.h"
#include "moondream_cpu.h"

namespace moondream {

// Whether vision_attention() runs here (AVX-512, or else AVX2, allowed by MOONDREAM_CPU_LEVEL;
// MOONDREAM_DISABLE_VISION_ATTENTION=1 says no).
bool vision_attention_supported();
// Whether this process uses it at all, and why: on AVX-512, and on AVX2 where AVX-512 is not.
KernelReport vision_attention_cpu_choice();
KernelReport vision_attention_avx2_cpu_choice();

// q, k, v: [n_head * head_dim, n] f32, rows contiguous (one row per position, heads side by side).
// Returns softmax(scale q_h k_h^T) v_h for every head h, as [n_head * head_dim, n] f32.
// `bf16_products`: both products on bf16 dot products (avx512_bf16_gemm.h; the caller checks the
// kernel runs), as a bf16 mmproj's matmuls are: queries, keys, values and probabilities rounded to
// bf16, sums and the softmax in f32.
ggml_tensor * vision_attention(ggml_context * ctx, ggml_tensor * q, ggml_tensor * k, ggml_tensor * v, int n_head, float scale,
                               bool bf16_products = false);

}  // namespace moondream
