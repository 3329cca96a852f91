// Attention of a batch of new positions (a prefill) over the KV cache, every head, in f32.
//
// ggml's flash attention walks the cache one key per query row at a time (an f16 dot product, a
// scalar exp, a value accumulator kept in f16): for an image prompt's 753 positions that was a
// quarter of the prefill. Here each head takes the blocked products of avx512_gemm.h, a block of
// queries at a time: S = scale Q K^T over the keys the block can see, a row softmax that zeroes
// each row's future keys (the causal mask, from the positions), then the probabilities times the
// values, written into the [e, t] layout the output projection reads. Heads are shared among the
// threads. On AVX-512 a head's keys and values are converted once for all its blocks, every 12
// queries take only the keys up to their own last, and O = P V goes straight into that layout;
// without AVX-512 the first plan, O^T = V^T P^T transposed out, runs on avx2_gemm.h
// (attention_gemm.h).
#pragma once

#include "ggml.h"
#include "moondream_cpu.h"

namespace moondream {

// Whether prefill_attention() runs here (AVX-512, or else AVX2, allowed by MOONDREAM_CPU_LEVEL;
// MOONDREAM_DISABLE_PREFILL_ATTENTION=1 says no).
bool prefill_attention_supported();
// Whether this process uses it at all, and why: on AVX-512, and on AVX2 where AVX-512 is not.
KernelReport prefill_attention_cpu_choice();
KernelReport prefill_attention_avx2_cpu_choice();

// q: [head_dim, n_head, t] f32, contiguous (roped, not yet scaled); keys, values: [head_dim, n_kv,
// n_head] f16 or f32 views of the cache (rows per position), already holding the batch's own rows;
// positions: [t] i32, the batch's cache positions, ascending. Query i sees the keys at positions
// <= positions[i]. Returns softmax(scale q K^T) V per head as [head_dim * n_head, t] f32.
ggml_tensor * prefill_attention(ggml_context * ctx, ggml_tensor * q, ggml_tensor * keys, ggml_tensor * values, ggml_tensor * positions,
                                float scale);

}  // namespace moondream
