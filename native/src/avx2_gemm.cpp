#include "avx2_gemm.h"

#include <algorithm>
#include <vector>

#include "cpu_level.h"

#if defined(__x86_64__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#include "avx2_math.h"
#define MOONDREAM_AVX2_GEMM 1
#define MD_TARGET __attribute__((target("avx2,fma,f16c")))
#endif

namespace moondream::avx2 {

namespace {

constexpr int64_t kChunk = 512;         // k per converted weight chunk (12 KiB of a row panel's activations, L1)
constexpr int64_t kPanelsPerBlock = 8;  // weight panels converted together: 512 x 128 f32 = 256 KiB, L2-resident

#if MOONDREAM_AVX2_GEMM

// 8 rows of 8 floats -> 8 columns: r[i] holds row i, afterwards r[j] holds column j.
MD_TARGET __attribute__((always_inline)) inline void transpose8(__m256 r[8]) {
    __m256 t[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    __m256 s[8];
    for (int i = 0; i < 8; i += 4) {
        s[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        s[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
        s[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        s[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (int i = 0; i < 4; ++i) {
        r[i] = _mm256_permute2f128_ps(s[i], s[i + 4], 0x20);
        r[i + 4] = _mm256_permute2f128_ps(s[i], s[i + 4], 0x31);
    }
}

MD_TARGET inline __m256 load8(const GemmWeights & w, int64_t row, int64_t k0) {
    if (w.format == WeightFormat::f16) {
        const auto * src = static_cast<const ggml_fp16_t *>(w.data) + size_t(row) * w.stride + size_t(k0);
        return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(src)));
    }
    if (w.format == WeightFormat::bf16) {  // the top half of an f32: widening is a shift
        const auto * src = static_cast<const uint16_t *>(w.data) + size_t(row) * w.stride + size_t(k0);
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i *>(src))), 16));
    }
    return _mm256_loadu_ps(static_cast<const float *>(w.data) + size_t(row) * w.stride + size_t(k0));
}

float value_at(const GemmWeights & w, int64_t row, int64_t kk) {
    const size_t at = size_t(row) * w.stride + size_t(kk);
    switch (w.format) {
        case WeightFormat::f16: return ggml_fp16_to_fp32(static_cast<const ggml_fp16_t *>(w.data)[at]);
        case WeightFormat::bf16: return ggml_bf16_to_fp32(static_cast<const ggml_bf16_t *>(w.data)[at]);
        case WeightFormat::f32: break;
    }
    return static_cast<const float *>(w.data)[at];
}

// Weight rows [n0, n0 + 16) x k [k0, k0 + kc) -> f32 [kc][16]; rows past n and k past the rows'
// end read as 0.
MD_TARGET void convert_panel(const GemmWeights & w, int64_t n0, int64_t k0, int64_t kc, float * out) {
    for (int g = 0; g < kPanelWidth; g += 8) {
        const int64_t valid_rows = std::min<int64_t>(8, w.n - (n0 + g));
        int64_t kk = 0;
        for (; kk + 8 <= kc && k0 + kk + 8 <= w.k; kk += 8) {
            __m256 r[8];
            for (int i = 0; i < 8; ++i) r[i] = i < valid_rows ? load8(w, n0 + g + i, k0 + kk) : _mm256_setzero_ps();
            transpose8(r);
            for (int j = 0; j < 8; ++j) _mm256_store_ps(out + size_t(kk + j) * kPanelWidth + g, r[j]);
        }
        for (; kk < kc; ++kk) {
            for (int i = 0; i < 8; ++i) {
                out[size_t(kk) * kPanelWidth + g + i] = i < valid_rows && k0 + kk < w.k ? value_at(w, n0 + g + i, k0 + kk) : 0.0f;
            }
        }
    }
}

#endif  // MOONDREAM_AVX2_GEMM

}  // namespace

#if MOONDREAM_AVX2_GEMM

MD_TARGET float exp_row(float * row, int64_t n) {
    __m256 best8 = _mm256_set1_ps(row[0]);
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) best8 = _mm256_max_ps(best8, _mm256_loadu_ps(row + j));
    __m128 m4 = _mm_max_ps(_mm256_extractf128_ps(best8, 1), _mm256_castps256_ps128(best8));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    float best = _mm_cvtss_f32(m4);
    for (int64_t t = j; t < n; ++t) best = std::max(best, row[t]);
    const __m256 best_v = _mm256_set1_ps(best);
    __m256 sum8 = _mm256_setzero_ps();
    for (j = 0; j + 8 <= n; j += 8) {
        const __m256 e = exp_nonpositive(_mm256_sub_ps(_mm256_loadu_ps(row + j), best_v));
        _mm256_storeu_ps(row + j, e);
        sum8 = _mm256_add_ps(sum8, e);
    }
    if (j < n) {
        // The tail through a zero-padded copy: lanes past n give e^(0 - best) and are not counted.
        alignas(32) float tail[8] = {};
        const int64_t count = n - j;
        for (int64_t t = 0; t < count; ++t) tail[t] = row[j + t];
        const __m256 e = exp_nonpositive(_mm256_sub_ps(_mm256_load_ps(tail), best_v));
        _mm256_store_ps(tail, e);
        for (int64_t t = 0; t < count; ++t) {
            row[j + t] = tail[t];
        }
        const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        const __m256 keep = _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(int32_t(count)), lane));
        sum8 = _mm256_add_ps(sum8, _mm256_and_ps(e, keep));
    }
    __m128 s4 = _mm_add_ps(_mm256_extractf128_ps(sum8, 1), _mm256_castps256_ps128(sum8));
    s4 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
    s4 = _mm_add_ss(s4, _mm_movehdup_ps(s4));
    return _mm_cvtss_f32(s4);
}

#else

float exp_row(float *, int64_t) { return 0.0f; }

#endif

namespace {

#if MOONDREAM_AVX2_GEMM

// A 6 x 16 tile over kc steps: a is [kc][6] (packed rows), w is [kc][16]. `first`: start from the
// bias (or 0), else from c; `gelu`: the last chunk of k of a product fused with the erf GELU. Only
// `rows` rows are read and stored.
MD_TARGET void tile(const float * a, const float * w, int64_t kc, float * c, size_t ldc, int rows, bool first, const float * bias, bool gelu) {
    // Every loop over the tile is unrolled so that the accumulators live in registers: with a
    // loop bound of `rows` GCC kept them in memory and stored all twelve at every step of k.
    __m256 acc[kRowsPerPanel][2];
    if (first) {
        const __m256 b0 = bias != nullptr ? _mm256_loadu_ps(bias) : _mm256_setzero_ps();
        const __m256 b1 = bias != nullptr ? _mm256_loadu_ps(bias + 8) : _mm256_setzero_ps();
#pragma GCC unroll 6
        for (int i = 0; i < kRowsPerPanel; ++i) {
            acc[i][0] = b0;
            acc[i][1] = b1;
        }
    } else {
#pragma GCC unroll 6
        for (int i = 0; i < kRowsPerPanel; ++i) {
            // Rows past `rows` are computed from zero and never stored.
            const bool valid = i < rows;
            acc[i][0] = valid ? _mm256_loadu_ps(c + size_t(i) * ldc) : _mm256_setzero_ps();
            acc[i][1] = valid ? _mm256_loadu_ps(c + size_t(i) * ldc + 8) : _mm256_setzero_ps();
        }
    }
    for (int64_t kk = 0; kk < kc; ++kk) {
        const __m256 w0 = _mm256_load_ps(w + kk * kPanelWidth);
        const __m256 w1 = _mm256_load_ps(w + kk * kPanelWidth + 8);
        const float * ak = a + kk * kRowsPerPanel;
#pragma GCC unroll 6
        for (int i = 0; i < kRowsPerPanel; ++i) {
            const __m256 x = _mm256_broadcast_ss(ak + i);
            acc[i][0] = _mm256_fmadd_ps(x, w0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(x, w1, acc[i][1]);
        }
    }
    if (gelu) {
#pragma GCC unroll 6
        for (int i = 0; i < kRowsPerPanel; ++i) {
            acc[i][0] = gelu_erf(acc[i][0]);
            acc[i][1] = gelu_erf(acc[i][1]);
        }
    }
#pragma GCC unroll 6
    for (int i = 0; i < kRowsPerPanel; ++i) {
        if (i < rows) {
            _mm256_storeu_ps(c + size_t(i) * ldc, acc[i][0]);
            _mm256_storeu_ps(c + size_t(i) * ldc + 8, acc[i][1]);
        }
    }
}

#endif  // MOONDREAM_AVX2_GEMM

}  // namespace

bool available() {
    static const bool cpu = cpu_choice("avx2_gemm", "").chosen;
    return cpu;
}

KernelReport cpu_choice(const char * name, const char * use, const char * disable_variable) {
#if MOONDREAM_AVX2_GEMM
    __builtin_cpu_init();
    const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    return kernel_choice(name, has, "AVX2, FMA and F16C", CpuLevel::avx2, use, disable_variable);
#else
    (void)use, (void)disable_variable;
    return KernelReport{name, false, "built only for x86-64"};
#endif
}

void pack_rows(const float * x, size_t stride, int64_t m, int64_t k, float scale, float * packed, int ith, int nth) {
    const int64_t panels = row_panels(m);
    for (int64_t p = ith; p < panels; p += nth) {
        float * out = packed + size_t(p) * size_t(k) * kRowsPerPanel;
        for (int i = 0; i < kRowsPerPanel; ++i) {
            const int64_t row = p * kRowsPerPanel + i;
            const float * src = x + size_t(row) * stride;
            if (row < m) {
                for (int64_t kk = 0; kk < k; ++kk) out[size_t(kk) * kRowsPerPanel + i] = scale * src[kk];
            } else {
                for (int64_t kk = 0; kk < k; ++kk) out[size_t(kk) * kRowsPerPanel + i] = 0.0f;
            }
        }
    }
}

#if MOONDREAM_AVX2_GEMM

MD_TARGET void multiply(const float * packed, int64_t m, const GemmWeights & w, const float * bias, float * out, size_t ldc,
                        int64_t first_panel, int64_t last_panel, bool gelu, int64_t panel_k) {
    // Weight panels are taken kPanelsPerBlock at a time: their chunk of k is converted once, and
    // each row panel's chunk of activations (6 x kChunk floats, L1) serves all of them.
    const int64_t k = w.k;
    panel_k = std::max(panel_k, k);
    const int64_t panels_m = row_panels(m);
    thread_local std::vector<float> buffer;
    const size_t panel_floats = size_t(kChunk) * kPanelWidth;
    buffer.resize(panel_floats * kPanelsPerBlock + 16);
    float * wbuf = reinterpret_cast<float *>((reinterpret_cast<uintptr_t>(buffer.data()) + 63) & ~uintptr_t(63));
    for (int64_t block = first_panel; block < last_panel; block += kPanelsPerBlock) {
        const int64_t block_end = std::min(last_panel, block + kPanelsPerBlock);
        for (int64_t k0 = 0; k0 < k; k0 += kChunk) {
            const int64_t kc = std::min(kChunk, k - k0);
            const bool last_chunk = k0 + kc == k;
            for (int64_t panel = block; panel < block_end; ++panel) {
                convert_panel(w, panel * kPanelWidth, k0, kc, wbuf + size_t(panel - block) * panel_floats);
            }
            for (int64_t p = 0; p < panels_m; ++p) {
                const float * a = packed + size_t(p) * size_t(panel_k) * kRowsPerPanel + size_t(k0) * kRowsPerPanel;
                const int rows = int(std::min<int64_t>(kRowsPerPanel, m - p * kRowsPerPanel));
                for (int64_t panel = block; panel < block_end; ++panel) {
                    const int64_t n0 = panel * kPanelWidth;
                    tile(a, wbuf + size_t(panel - block) * panel_floats, kc, out + size_t(p) * kRowsPerPanel * ldc + size_t(n0), ldc, rows, k0 == 0,
                         bias != nullptr ? bias + n0 : nullptr, gelu && last_chunk);
                }
            }
        }
    }
}

MD_TARGET void transpose(const float * src, size_t ld_src, int64_t rows, int64_t cols, float * dst, size_t ld_dst) {
    for (int64_t i0 = 0; i0 < rows; i0 += 8) {
        for (int64_t j0 = 0; j0 < cols; j0 += 8) {
            if (i0 + 8 <= rows && j0 + 8 <= cols) {
                __m256 r[8];
                for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(src + size_t(i0 + i) * ld_src + size_t(j0));
                transpose8(r);
                for (int j = 0; j < 8; ++j) _mm256_storeu_ps(dst + size_t(j0 + j) * ld_dst + size_t(i0), r[j]);
                continue;
            }
            for (int64_t i = i0; i < std::min(rows, i0 + 8); ++i) {
                for (int64_t j = j0; j < std::min(cols, j0 + 8); ++j) dst[size_t(j) * ld_dst + size_t(i)] = src[size_t(i) * ld_src + size_t(j)];
            }
        }
    }
}

MD_TARGET void softmax_rows(float * s, int64_t rows, size_t ld, int64_t width, const int64_t * valid) {
    for (int64_t r = 0; r < rows; ++r) {
        float * row = s + size_t(r) * ld;
        const int64_t n = valid != nullptr ? valid[r] : width;
        const float sum = exp_row(row, n);
        const __m256 inverse = _mm256_set1_ps(1.0f / sum);
        int64_t j = 0;
        for (; j + 8 <= n; j += 8) _mm256_storeu_ps(row + j, _mm256_mul_ps(_mm256_loadu_ps(row + j), inverse));
        for (; j < n; ++j) row[j] *= 1.0f / sum;
        for (; j < width; ++j) row[j] = 0.0f;  // a causal row's future keys
    }
}

#else

void multiply(const float *, int64_t, const GemmWeights &, const float *, float *, size_t, int64_t, int64_t, bool, int64_t) {}
void transpose(const float *, size_t, int64_t, int64_t, float *, size_t) {}
void softmax_rows(float *, int64_t, size_t, int64_t, const int64_t *) {}

#endif

}  // namespace moondream::avx2
