#include "avx512_gemm.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "cpu_level.h"
#include "ggml.h"

#if defined(__x86_64__)
// GCC 12's AVX-512 headers trip -Wmaybe-uninitialized on their own _mm512_undefined_* locals.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#include "avx512_tile.h"
#define MOONDREAM_AVX512_GEMM 1
#define MD_TARGET __attribute__((target("avx512f,avx512bw,avx512vl")))
#endif

namespace moondream::avx512 {

namespace {

constexpr int64_t kChunk = 512;         // k per converted weight chunk (24 KiB of a row panel's activations, L1)
constexpr int64_t kPanelsPerBlock = 8;  // weight panels converted together: 512 x 256 f32 = 512 KiB, L2-resident

#if MOONDREAM_AVX512_GEMM

MD_TARGET inline __m512 load_row(const WeightRows & w, int64_t row, int64_t k0, __mmask16 mask) {
    if (w.format == WeightFormat::f16) {
        const auto * src = static_cast<const ggml_fp16_t *>(w.data) + size_t(row) * w.stride + size_t(k0);
        return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask, src));
    }
    if (w.format == WeightFormat::bf16) {  // the top half of an f32: widening is a shift
        const auto * src = static_cast<const uint16_t *>(w.data) + size_t(row) * w.stride + size_t(k0);
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(mask, src)), 16));
    }
    return _mm512_maskz_loadu_ps(mask, static_cast<const float *>(w.data) + size_t(row) * w.stride + size_t(k0));
}

// Weight rows [n0, n0 + 32) x k [k0, k0 + kc) -> f32 [kc][32]; rows past n and k past the row's
// end read as 0.
MD_TARGET void convert_panel(const WeightRows & w, int64_t n0, int64_t k0, int64_t kc, float * out) {
    for (int g = 0; g < kPanelWidth; g += 16) {
        const int64_t valid_rows = std::min<int64_t>(16, w.n - (n0 + g));
        for (int64_t kk = 0; kk < kc; kk += 16) {
            const __mmask16 mask = first_lanes(w.k - (k0 + kk));
            __m512 r[16];
            for (int i = 0; i < 16; ++i) r[i] = i < valid_rows ? load_row(w, n0 + g + i, k0 + kk, mask) : _mm512_setzero_ps();
            transpose16(r);
            const int64_t columns = std::min<int64_t>(16, kc - kk);
            for (int j = 0; j < columns; ++j) _mm512_store_ps(out + size_t(kk + j) * kPanelWidth + g, r[j]);
        }
    }
}

// A 12 x (16 NV) tile over kc steps: a is [kc][12] (packed rows), w is [kc][32]. `first`: start
// from the bias (or 0), else from c; `gelu`: the last chunk of k of a fused MLP matmul. Only
// `rows` rows and the lanes of `last` in the last vector are stored (avx512_tile.h).
template <int NV>
MD_TARGET void tile(const float * a, const float * w, int64_t kc, float * c, size_t ldc, int rows, __mmask16 last, bool first,
                    const float * bias, bool gelu) {
    __m512 acc[kRowsPerPanel][NV];
    start_tile(acc, c, ldc, rows, last, first, bias);
    for (int64_t kk = 0; kk < kc; ++kk) {
        __m512 wv[NV];
        for (int v = 0; v < NV; ++v) wv[v] = _mm512_load_ps(w + kk * kPanelWidth + 16 * v);
        const float * ak = a + kk * kRowsPerPanel;
        for (int i = 0; i < kRowsPerPanel; ++i) {
            const __m512 x = _mm512_set1_ps(ak[i]);
            for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(x, wv[v], acc[i][v]);
        }
    }
    finish_tile(acc, c, ldc, rows, last, gelu);
}

MD_TARGET void pack_rows_avx512(const float * x, size_t stride, int64_t m, int64_t k, float scale, float * packed, int ith, int nth) {
    const __m512 s = _mm512_set1_ps(scale);
    const int64_t panels = row_panels(m);
    for (int64_t p = ith; p < panels; p += nth) {
        float * out = packed + size_t(p) * size_t(k) * kRowsPerPanel;
        const int64_t valid_rows = std::min<int64_t>(kRowsPerPanel, m - p * kRowsPerPanel);
        for (int64_t kk = 0; kk < k; kk += 16) {
            const __mmask16 mask = first_lanes(k - kk);
            __m512 r[16];
            for (int i = 0; i < 16; ++i) {
                r[i] = i < valid_rows ? _mm512_mul_ps(s, _mm512_maskz_loadu_ps(mask, x + size_t(p * kRowsPerPanel + i) * stride + size_t(kk)))
                                      : _mm512_setzero_ps();
            }
            transpose16(r);
            const int64_t columns = std::min<int64_t>(16, k - kk);
            for (int j = 0; j < columns; ++j) _mm512_mask_storeu_ps(out + size_t(kk + j) * kRowsPerPanel, __mmask16(0x0FFF), r[j]);
        }
    }
}

MD_TARGET void transpose_avx512(const float * src, size_t ld_src, int64_t rows, int64_t cols, float * dst, size_t ld_dst) {
    for (int64_t i0 = 0; i0 < rows; i0 += 16) {
        const int64_t block_rows = std::min<int64_t>(16, rows - i0);
        for (int64_t j0 = 0; j0 < cols; j0 += 16) {
            const __mmask16 mask = first_lanes(cols - j0);
            __m512 r[16];
            for (int i = 0; i < 16; ++i) r[i] = i < block_rows ? _mm512_maskz_loadu_ps(mask, src + size_t(i0 + i) * ld_src + size_t(j0)) : _mm512_setzero_ps();
            transpose16(r);
            const int64_t block_cols = std::min<int64_t>(16, cols - j0);
            const __mmask16 out_mask = first_lanes(block_rows);
            for (int j = 0; j < block_cols; ++j) _mm512_mask_storeu_ps(dst + size_t(j0 + j) * ld_dst + size_t(i0), out_mask, r[j]);
        }
    }
}

MD_TARGET void multiply_avx512(const float * packed, int64_t m, const WeightRows & w, const float * bias, float * out, size_t ldc,
                               int64_t first_panel, int64_t last_panel, Epilogue epilogue, int64_t panel_k) {
    // Weight panels are taken kPanelsPerBlock at a time: their chunk of k is converted once, and
    // each row panel's chunk of activations (12 x kChunk floats, L1) serves all of them.
    const int64_t panels_m = row_panels(m);
    thread_local std::vector<float> buffer;
    const size_t panel_floats = size_t(kChunk) * kPanelWidth;
    buffer.resize(panel_floats * kPanelsPerBlock + 16);
    float * wbuf = reinterpret_cast<float *>((reinterpret_cast<uintptr_t>(buffer.data()) + 63) & ~uintptr_t(63));
    for (int64_t block = first_panel; block < last_panel; block += kPanelsPerBlock) {
        const int64_t block_end = std::min(last_panel, block + kPanelsPerBlock);
        for (int64_t k0 = 0; k0 < w.k; k0 += kChunk) {
            const int64_t kc = std::min(kChunk, w.k - k0);
            const bool gelu = epilogue == Epilogue::gelu_erf && k0 + kc == w.k;
            for (int64_t panel = block; panel < block_end; ++panel) {
                convert_panel(w, panel * kPanelWidth, k0, kc, wbuf + size_t(panel - block) * panel_floats);
            }
            for (int64_t p = 0; p < panels_m; ++p) {
                const float * a = packed + size_t(p) * size_t(panel_k) * kRowsPerPanel + size_t(k0) * kRowsPerPanel;
                const int rows = int(std::min<int64_t>(kRowsPerPanel, m - p * kRowsPerPanel));
                for (int64_t panel = block; panel < block_end; ++panel) {
                    const int64_t n0 = panel * kPanelWidth;
                    const int64_t width = std::min<int64_t>(kPanelWidth, w.n - n0);
                    float * c = out + size_t(p) * kRowsPerPanel * ldc + size_t(n0);
                    const float * b = bias != nullptr ? bias + n0 : nullptr;
                    const float * wp = wbuf + size_t(panel - block) * panel_floats;
                    if (width > 16) {
                        tile<2>(a, wp, kc, c, ldc, rows, first_lanes(width - 16), k0 == 0, b, gelu);
                    } else {
                        tile<1>(a, wp, kc, c, ldc, rows, first_lanes(width), k0 == 0, b, gelu);
                    }
                }
            }
        }
    }
}

MD_TARGET void convert_panels_avx512(const WeightRows & w, float * out) {
    for (int64_t panel = 0; panel < weight_panels(w.n); ++panel) {
        convert_panel(w, panel * kPanelWidth, 0, w.k, out + size_t(panel) * size_t(w.k) * kPanelWidth);
    }
}

MD_TARGET void multiply_converted_avx512(const float * packed, int64_t m, int64_t panel_k, const float * panels, size_t panel_stride,
                                         int64_t n, int64_t k, float * out, size_t ldc, const int64_t * row_n, const int64_t * row_k) {
    for (int64_t k0 = 0; k0 < k; k0 += kChunk) {
        for (int64_t p = 0; p < row_panels(m); ++p) {
            const int64_t k_end = row_k != nullptr ? std::min(k, row_k[p]) : k;
            if (k0 >= k_end) continue;  // this row panel's sums are complete
            const int64_t kc = std::min(kChunk, k_end - k0);
            const int64_t n_end = row_n != nullptr ? std::min(n, row_n[p]) : n;
            const float * a = packed + size_t(p) * size_t(panel_k) * kRowsPerPanel + size_t(k0) * kRowsPerPanel;
            const int rows = int(std::min<int64_t>(kRowsPerPanel, m - p * kRowsPerPanel));
            for (int64_t panel = 0; panel < weight_panels(n_end); ++panel) {
                const int64_t n0 = panel * kPanelWidth;
                const int64_t width = std::min<int64_t>(kPanelWidth, n - n0);
                float * c = out + size_t(p) * kRowsPerPanel * ldc + size_t(n0);
                const float * wp = panels + size_t(panel) * panel_stride * kPanelWidth + size_t(k0) * kPanelWidth;
                if (width > 16) {
                    tile<2>(a, wp, kc, c, ldc, rows, first_lanes(width - 16), k0 == 0, nullptr, false);
                } else {
                    tile<1>(a, wp, kc, c, ldc, rows, first_lanes(width), k0 == 0, nullptr, false);
                }
            }
        }
    }
}

#endif  // MOONDREAM_AVX512_GEMM

}  // namespace

bool available() {
#if MOONDREAM_AVX512_GEMM
    static const bool cpu = cpu_choice("avx512_gemm", "").chosen;
    return cpu;
#else
    return false;
#endif
}

KernelReport cpu_choice(const char * name, const char * use, const char * disable_variable) {
#if MOONDREAM_AVX512_GEMM
    __builtin_cpu_init();
    const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
    return avx512_kernel_choice(name, has, "AVX-512 F, BW and VL", use, disable_variable);
#else
    (void)use, (void)disable_variable;
    return KernelReport{name, false, "built only for x86-64"};
#endif
}

void pack_rows(const float * x, size_t stride, int64_t m, int64_t k, float scale, float * packed, int ith, int nth) {
#if MOONDREAM_AVX512_GEMM
    pack_rows_avx512(x, stride, m, k, scale, packed, ith, nth);
#else
    (void)x, (void)stride, (void)m, (void)k, (void)scale, (void)packed, (void)ith, (void)nth;
#endif
}

void transpose(const float * src, size_t ld_src, int64_t rows, int64_t cols, float * dst, size_t ld_dst) {
#if MOONDREAM_AVX512_GEMM
    transpose_avx512(src, ld_src, rows, cols, dst, ld_dst);
#else
    (void)src, (void)ld_src, (void)rows, (void)cols, (void)dst, (void)ld_dst;
#endif
}

void multiply(const float * packed, int64_t m, const WeightRows & w, const float * bias, float * out, size_t ldc, int64_t first_panel,
              int64_t last_panel, Epilogue epilogue, int64_t panel_k) {
#if MOONDREAM_AVX512_GEMM
    multiply_avx512(packed, m, w, bias, out, ldc, first_panel, last_panel, epilogue, std::max(panel_k, w.k));
#else
    (void)packed, (void)m, (void)w, (void)bias, (void)out, (void)ldc, (void)first_panel, (void)last_panel, (void)epilogue, (void)panel_k;
#endif
}

void convert_panels(const WeightRows & w, float * out) {
#if MOONDREAM_AVX512_GEMM
    convert_panels_avx512(w, out);
#else
    (void)w, (void)out;
#endif
}

void multiply_converted(const float * packed, int64_t m, int64_t panel_k, const float * panels, size_t panel_stride, int64_t n, int64_t k,
                        float * out, size_t ldc, const int64_t * row_n, const int64_t * row_k) {
#if MOONDREAM_AVX512_GEMM
    multiply_converted_avx512(packed, m, panel_k, panels, panel_stride, n, k, out, ldc, row_n, row_k);
#else
    (void)packed, (void)m, (void)panel_k, (void)panels, (void)panel_stride, (void)n, (void)k, (void)out, (void)ldc, (void)row_n, (void)row_k;
#endif
}

}  // namespace moondream::avx512
