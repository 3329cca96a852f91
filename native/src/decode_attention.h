// Attention of one new position (a decode step) over the f16 KV cache, every head, in f32.
//
// ggml's flash attention walks the cache one key at a time (a dot product, a scalar exp, and a
// value accumulator kept in f16 that is converted back and forth per key); at moondream's usual
// depth of 750 positions that costs decode about as much as one more pass over the weights. Here
// each thread takes a contiguous share of the positions for every head, in two passes over it:
// all the scores (16-wide dot products and a vectorised exp), then the softmax-weighted sum of the
// values, every accumulator in f32; a second op merges the threads' partial softmaxes per head.
// Without AVX-512 the same passes run 8 lanes wide on AVX2.
#pragma once

#include "ggml.h"
#include "moondream_cpu.h"

namespace moondream {

// Whether decode_attention() can run here: AVX-512 F, or else AVX2, FMA and F16C, allowed by
// MOONDREAM_CPU_LEVEL (MOONDREAM_DISABLE_DECODE_ATTENTION=1 says no).
bool decode_attention_supported(int64_t head_dim);
// Whether this process uses it at all, and why: on AVX-512, and on AVX2 where AVX-512 is not.
KernelReport decode_attention_cpu_choice();
KernelReport decode_attention_avx2_cpu_choice();

// q: [head_dim, n_head, 1] f32 with contiguous rows; keys, values: [head_dim, n_kv, n_head] f16
// views of the cache (rows per position); mask: [n_kv, 1] f16, 0 or -inf per position (the
// positions to skip). Returns softmax(scale q K^T + mask) V as [head_dim * n_head, 1] f32.
ggml_tensor * decode_attention(ggml_context * ctx, ggml_tensor * q, ggml_tensor * keys, ggml_tensor * values, ggml_tensor * mask, float scale);

}  // namespace moondream
