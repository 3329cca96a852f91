// The blocked fp32 product and its helpers as the attention kernels (vision_attention.h,
// prefill_attention.h) use them, on AVX-512 (avx512_gemm.h) or, without it, AVX2 (avx2_gemm.h):
// the same plan, panels of different sizes.
#pragma once

#include <cstddef>
#include <cstdint>

#include "gemm_weights.h"

namespace moondream {

struct AttentionGemm {
    int64_t rows_per_panel;  // rows of a packed activation panel
    int64_t panel_width;     // outputs per weight panel
    // Rows [m][k] (`stride` floats apart) times `scale` -> panels [p][k][rows_per_panel].
    void (*pack_rows)(const float * x, size_t stride, int64_t m, int64_t k, float scale, float * packed, int ith, int nth);
    // out (rows `ldc` apart, whole panels stored) = packed w^T over all of w's panels; `panel_k` as
    // avx512::multiply's.
    void (*multiply)(const float * packed, int64_t m, const GemmWeights & w, float * out, size_t ldc, int64_t panel_k);
    // As avx512::softmax_rows.
    void (*softmax_rows)(float * s, int64_t rows, size_t ld, int64_t width, const int64_t * valid);
    void (*transpose)(const float * src, size_t ld_src, int64_t rows, int64_t cols, float * dst, size_t ld_dst);

    int64_t panels(int64_t count, int64_t size) const { return (count + size - 1) / size; }
    // Row length that holds `n` outputs in whole weight panels.
    size_t padded(int64_t n) const { return size_t(panels(n, panel_width) * panel_width); }
    size_t packed_floats(int64_t m, int64_t k) const { return size_t(panels(m, rows_per_panel) * rows_per_panel) * size_t(k); }
};

// Whether either instruction set's product runs here (MOONDREAM_CPU_LEVEL allowing).
bool attention_gemm_available();
// AVX-512's where it runs, else AVX2's; only when attention_gemm_available().
const AttentionGemm & attention_gemm();

// Value rows [0, n) (`stride` elements apart, f16 or f32) -> panels [p][n][rows_per_panel] of the
// value columns p*rows .. (columns past d zero): V^T packed as the product's activations.
void pack_values(const AttentionGemm & g, const void * v, bool half, size_t stride, int64_t n, int64_t d, float * out);

}  // namespace moondream
