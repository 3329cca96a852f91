// Pieces shared by the AVX-512 blocked products (avx512_gemm.cpp for f32 multiply-adds,
// avx512_bf16_gemm.cpp for bf16 dot products): the 16 x 16 transpose their packing runs on, and
// how a 12 x (16 NV) register tile of f32 sums starts (from the bias, or from what an earlier
// chunk of k stored) and ends (erf GELU, masked stores). Include only from files that check
// avx512::available() before calling them.
#pragma once

#if defined(__x86_64__)
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "avx512_math.h"

namespace moondream::avx512 {

#define MD_TILE_TARGET __attribute__((target("avx512f,avx512bw,avx512vl"), always_inline))

// A mask of the first `count` of 16 lanes.
MD_TILE_TARGET inline __mmask16 first_lanes(int64_t count) {
    return count >= 16 ? __mmask16(0xFFFF) : count <= 0 ? __mmask16(0) : __mmask16((1u << count) - 1);
}

// 16 rows of 16 32-bit values -> 16 columns: r[i] holds row i, afterwards r[j] holds column j.
MD_TILE_TARGET inline void transpose16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    // r[4g + j], 128-bit lane q: rows 4g..4g+3 of column 4q + j.
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
        r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xEE);
        r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (int i = 0; i < 4; ++i) {
        t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
        t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xDD);
        t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
        t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xDD);
    }
    for (int i = 0; i < 4; ++i) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
        r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xDD);
        r[i + 4] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0x88);
        r[i + 12] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0xDD);
    }
}

// The tile's starting sums: the bias (or 0) on the first chunk of k, else the `rows` rows of c
// stored by the chunk before. `last`: the lanes of the last vector that exist.
template <int Rows, int NV>
MD_TILE_TARGET inline void start_tile(__m512 (&acc)[Rows][NV], const float * c, size_t ldc, int rows, __mmask16 last, bool first,
                                      const float * bias) {
    if (first) {
        for (int v = 0; v < NV; ++v) {
            const __mmask16 mask = v == NV - 1 ? last : __mmask16(0xFFFF);
            const __m512 b = bias != nullptr ? _mm512_maskz_loadu_ps(mask, bias + 16 * v) : _mm512_setzero_ps();
            for (int i = 0; i < Rows; ++i) acc[i][v] = b;
        }
        return;
    }
    for (int i = 0; i < Rows; ++i) {
        for (int v = 0; v < NV; ++v) {
            const __mmask16 mask = v == NV - 1 ? last : __mmask16(0xFFFF);
            acc[i][v] = i < rows ? _mm512_maskz_loadu_ps(mask, c + size_t(i) * ldc + 16 * v) : _mm512_setzero_ps();
        }
    }
}

// Stores the tile's `rows` rows (the lanes of `last` in the last vector), through the erf GELU
// when `gelu` (the last chunk of k of a fused MLP matmul).
template <int Rows, int NV>
MD_TILE_TARGET inline void finish_tile(__m512 (&acc)[Rows][NV], float * c, size_t ldc, int rows, __mmask16 last, bool gelu) {
    if (gelu) {
        for (int i = 0; i < Rows; ++i) {
            for (int v = 0; v < NV; ++v) acc[i][v] = gelu_erf(acc[i][v]);
        }
    }
    for (int i = 0; i < rows; ++i) {
        for (int v = 0; v < NV; ++v) {
            if (v == NV - 1) {
                _mm512_mask_storeu_ps(c + size_t(i) * ldc + 16 * v, last, acc[i][v]);
            } else {
                _mm512_storeu_ps(c + size_t(i) * ldc + 16 * v, acc[i][v]);
            }
        }
    }
}

#undef MD_TILE_TARGET

}  // namespace moondream::avx512

#endif
