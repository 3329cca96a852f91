#include "avx512_bf16_gemm.h"

#include <algorithm>
#include <vector>

#include "cpu_level.h"

#if defined(__x86_64__)
// GCC 12's AVX-512 headers trip -Wmaybe-uninitialized on their own _mm512_undefined_* locals.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#include "avx512_tile.h"
#define MOONDREAM_AVX512_BF16_GEMM 1
#define MD_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
#endif

namespace moondream::avx512_bf16 {

namespace {

constexpr int64_t kChunkPairs = 512;    // k pairs per converted weight chunk (24 KiB of a row panel's activations, L1)
constexpr int64_t kPanelsPerBlock = 8;  // weight panels converted together: 512 x 32 x 8 pairs = 512 KiB, L2-resident

#if MOONDREAM_AVX512_BF16_GEMM

using avx512::finish_tile;
using avx512::first_lanes;
using avx512::start_tile;
using avx512::transpose16;

// 32 floats from `row` (those past `count` read as 0) -> 16 bf16 pairs in k order.
MD_TARGET inline __m512 pairs_of(const float * row, int64_t count) {
    // The second operand fills the low half.
    return (__m512)_mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(first_lanes(count - 16), row + 16), _mm512_maskz_loadu_ps(first_lanes(count), row));
}

// Weight rows [n0, n0 + 32) x pairs [p0, p0 + pc) -> [pc][32] pairs; rows past n and pairs past
// the row's end read as 0.
MD_TARGET void convert_panel(const GemmWeights & w, int64_t n0, int64_t p0, int64_t pc, uint32_t * out) {
    const int64_t pairs = w.k / 2;
    const bool rounded = w.format == WeightFormat::f32;
    for (int g = 0; g < kPanelWidth; g += 16) {
        const int64_t valid_rows = std::min<int64_t>(16, w.n - (n0 + g));
        for (int64_t pp = 0; pp < pc; pp += 16) {
            const __mmask16 mask = first_lanes(pairs - (p0 + pp));
            __m512 r[16];
            for (int i = 0; i < 16; ++i) {
                const size_t at = size_t(n0 + g + i) * w.stride + size_t(2 * (p0 + pp));
                if (i >= valid_rows) {
                    r[i] = _mm512_setzero_ps();
                } else if (rounded) {
                    r[i] = pairs_of(static_cast<const float *>(w.data) + at, w.k - 2 * (p0 + pp));
                } else {
                    r[i] = _mm512_castsi512_ps(_mm512_maskz_loadu_epi32(mask, static_cast<const uint16_t *>(w.data) + at));
                }
            }
            transpose16(r);
            const int64_t columns = std::min<int64_t>(16, pc - pp);
            for (int j = 0; j < columns; ++j) _mm512_store_ps(reinterpret_cast<float *>(out + size_t(pp + j) * kPanelWidth + g), r[j]);
        }
    }
}

// A 12 x (16 NV) tile over pc pairs: a is [pc][12] (packed rows), w is [pc][32].
template <int NV>
MD_TARGET void tile(const uint32_t * a, const uint32_t * w, int64_t pc, float * c, size_t ldc, int rows, __mmask16 last, bool first,
                    const float * bias, bool gelu) {
    __m512 acc[kRowsPerPanel][NV];
    start_tile(acc, c, ldc, rows, last, first, bias);
    for (int64_t kk = 0; kk < pc; ++kk) {
        __m512bh wv[NV];
        for (int v = 0; v < NV; ++v) wv[v] = (__m512bh)_mm512_load_si512(w + kk * kPanelWidth + 16 * v);
        const uint32_t * ak = a + kk * kRowsPerPanel;
        for (int i = 0; i < kRowsPerPanel; ++i) {
            const __m512bh x = (__m512bh)_mm512_set1_epi32(int(ak[i]));
            for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_dpbf16_ps(acc[i][v], x, wv[v]);
        }
    }
    finish_tile(acc, c, ldc, rows, last, gelu);
}

MD_TARGET void pack_rows_bf16(const float * x, size_t stride, int64_t m, int64_t k, float scale, uint32_t * packed, int ith, int nth) {
    const int64_t panels = row_panels(m);
    const int64_t pairs = k / 2;
    const __m512 s = _mm512_set1_ps(scale);
    for (int64_t p = ith; p < panels; p += nth) {
        uint32_t * out = packed + size_t(p) * size_t(pairs) * kRowsPerPanel;
        const int64_t valid_rows = std::min<int64_t>(kRowsPerPanel, m - p * kRowsPerPanel);
        for (int64_t pp = 0; pp < pairs; pp += 16) {
            const __mmask16 low = first_lanes(k - 2 * pp);
            const __mmask16 high = first_lanes(k - 2 * pp - 16);
            __m512 r[16];
            for (int i = 0; i < 16; ++i) {
                if (i >= valid_rows) {
                    r[i] = _mm512_setzero_ps();
                    continue;
                }
                const float * row = x + size_t(p * kRowsPerPanel + i) * stride + size_t(2 * pp);
                // 32 floats -> 32 bf16 in k order: the second operand fills the low half.
                r[i] = (__m512)_mm512_cvtne2ps_pbh(_mm512_mul_ps(s, _mm512_maskz_loadu_ps(high, row + 16)),
                                                   _mm512_mul_ps(s, _mm512_maskz_loadu_ps(low, row)));
            }
            transpose16(r);
            const int64_t columns = std::min<int64_t>(16, pairs - pp);
            for (int j = 0; j < columns; ++j) {
                _mm512_mask_storeu_ps(reinterpret_cast<float *>(out + size_t(pp + j) * kRowsPerPanel), __mmask16(0x0FFF), r[j]);
            }
        }
    }
}

MD_TARGET void multiply_bf16(const uint32_t * packed, int64_t m, const GemmWeights & w, const float * bias, float * out, size_t ldc,
                             int64_t first_panel, int64_t last_panel, bool gelu) {
    // As avx512_gemm.cpp: kPanelsPerBlock weight panels converted per chunk of k, each row panel's
    // chunk of activations (L1) serving all of them.
    const int64_t panels_m = row_panels(m);
    const int64_t pairs = w.k / 2;
    thread_local std::vector<uint32_t> buffer;
    const size_t panel_pairs = size_t(kChunkPairs) * kPanelWidth;
    buffer.resize(panel_pairs * kPanelsPerBlock + 16);
    uint32_t * wbuf = reinterpret_cast<uint32_t *>((reinterpret_cast<uintptr_t>(buffer.data()) + 63) & ~uintptr_t(63));
    for (int64_t block = first_panel; block < last_panel; block += kPanelsPerBlock) {
        const int64_t block_end = std::min(last_panel, block + kPanelsPerBlock);
        for (int64_t p0 = 0; p0 < pairs; p0 += kChunkPairs) {
            const int64_t pc = std::min(kChunkPairs, pairs - p0);
            const bool last_chunk = p0 + pc == pairs;
            for (int64_t panel = block; panel < block_end; ++panel) {
                convert_panel(w, panel * kPanelWidth, p0, pc, wbuf + size_t(panel - block) * panel_pairs);
            }
            for (int64_t p = 0; p < panels_m; ++p) {
                const uint32_t * a = packed + (size_t(p) * size_t(pairs) + size_t(p0)) * kRowsPerPanel;
                const int rows = int(std::min<int64_t>(kRowsPerPanel, m - p * kRowsPerPanel));
                for (int64_t panel = block; panel < block_end; ++panel) {
                    const int64_t n0 = panel * kPanelWidth;
                    const int64_t width = std::min<int64_t>(kPanelWidth, w.n - n0);
                    float * c = out + size_t(p) * kRowsPerPanel * ldc + size_t(n0);
                    const float * b = bias != nullptr ? bias + n0 : nullptr;
                    const uint32_t * wp = wbuf + size_t(panel - block) * panel_pairs;
                    if (width > 16) {
                        tile<2>(a, wp, pc, c, ldc, rows, first_lanes(width - 16), p0 == 0, b, gelu && last_chunk);
                    } else {
                        tile<1>(a, wp, pc, c, ldc, rows, first_lanes(width), p0 == 0, b, gelu && last_chunk);
                    }
                }
            }
        }
    }
}

#endif  // MOONDREAM_AVX512_BF16_GEMM

}  // namespace

bool available() {
#if MOONDREAM_AVX512_BF16_GEMM
    static const bool cpu = cpu_choice("avx512_bf16_gemm", "").chosen;
    return cpu;
#else
    return false;
#endif
}

KernelReport cpu_choice(const char * name, const char * use, const char * disable_variable) {
#if MOONDREAM_AVX512_BF16_GEMM
    __builtin_cpu_init();
    const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
                     __builtin_cpu_supports("avx512bf16");
    return avx512_kernel_choice(name, has, "AVX-512 F, BW, VL and BF16", use, disable_variable);
#else
    (void)use, (void)disable_variable;
    return KernelReport{name, false, "built only for x86-64"};
#endif
}

void pack_rows(const float * x, size_t stride, int64_t m, int64_t k, float scale, uint32_t * packed, int ith, int nth) {
#if MOONDREAM_AVX512_BF16_GEMM
    pack_rows_bf16(x, stride, m, k, scale, packed, ith, nth);
#else
    (void)x, (void)stride, (void)m, (void)k, (void)scale, (void)packed, (void)ith, (void)nth;
#endif
}

void multiply(const uint32_t * packed, int64_t m, const GemmWeights & w, const float * bias, float * out, size_t ldc, int64_t first_panel,
              int64_t last_panel, bool gelu) {
#if MOONDREAM_AVX512_BF16_GEMM
    multiply_bf16(packed, m, w, bias, out, ldc, first_panel, last_panel, gelu);
#else
    (void)packed, (void)m, (void)w, (void)bias, (void)out, (void)ldc, (void)first_panel, (void)last_panel, (void)gelu;
#endif
}

}  // namespace moondream::avx512_bf16
