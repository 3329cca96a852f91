#include "attention_gemm.h"

#include <algorithm>

#include "avx2_gemm.h"
#include "avx512_gemm.h"
#include "avx512_softmax.h"
#include "ggml.h"

namespace moondream {

namespace {

const AttentionGemm kAvx512 = {
    avx512::kRowsPerPanel,
    avx512::kPanelWidth,
    avx512::pack_rows,
    [](const float * packed, int64_t m, const GemmWeights & w, float * out, size_t ldc, int64_t panel_k) {
        avx512::multiply(packed, m, w, nullptr, out, ldc, 0, avx512::weight_panels(w.n), avx512::Epilogue::none, panel_k);
    },
    avx512::softmax_rows,
    avx512::transpose,
};

const AttentionGemm kAvx2 = {
    avx2::kRowsPerPanel,
    avx2::kPanelWidth,
    avx2::pack_rows,
    [](const float * packed, int64_t m, const GemmWeights & w, float * out, size_t ldc, int64_t panel_k) {
        avx2::multiply(packed, m, w, nullptr, out, ldc, 0, avx2::weight_panels(w.n), false, panel_k);
    },
    avx2::softmax_rows,
    avx2::transpose,
};

}  // namespace

bool attention_gemm_available() { return avx512::available() || avx2::available(); }

const AttentionGemm & attention_gemm() { return avx512::available() ? kAvx512 : kAvx2; }

void pack_values(const AttentionGemm & g, const void * v, bool half, size_t stride, int64_t n, int64_t d, float * out) {
    // A row at a time through f32 (one conversion per value), then out to the panels.
    thread_local std::vector<float> row;
    row.resize(size_t(g.panels(d, g.rows_per_panel) * g.rows_per_panel));
    std::fill(row.begin() + d, row.end(), 0.0f);
    const int64_t panels = g.panels(d, g.rows_per_panel);
    for (int64_t j = 0; j < n; ++j) {
        if (half) {
            ggml_fp16_to_fp32_row(static_cast<const ggml_fp16_t *>(v) + size_t(j) * stride, row.data(), d);
        } else {
            std::copy_n(static_cast<const float *>(v) + size_t(j) * stride, d, row.data());
        }
        for (int64_t p = 0; p < panels; ++p) {
            std::copy_n(row.data() + p * g.rows_per_panel, g.rows_per_panel, out + (size_t(p) * size_t(n) + size_t(j)) * size_t(g.rows_per_panel));
        }
    }
}

}  // namespace moondream
