// A blocked f16-weight x f32-activation product for AVX2 and FMA, out = a w^T (+ bias): what the
// f16 weight matmuls (f16_matrix.h) run on a CPU without AVX-512, where avx512_gemm.h cannot.
//
// The same plan as avx512_gemm.h, sized for 16 registers of 256 bits: `a` (m rows of k) is packed
// into panels of 6 rows interleaved by k; `w` (n rows of k in f16) is converted, 8 panels of 16 rows
// and 512 k at a time, into an f32 buffer laid out by k that stays in L2 while every row panel
// passes over it. The inner loop is two aligned loads, 6 broadcasts and 12 FMAs into a 6 x 16
// register tile, with the bias and (when asked) the erf GELU applied as it is stored. ggml's path on such a CPU rounds the activations to f16 and converts both
// operands back to f32 inside its inner loop; here each weight is converted once per pass and the
// activations stay f32.
#pragma once

#include <cstddef>
#include <cstdint>

#include "gemm_weights.h"
#include "ggml.h"
#include "moondream_cpu.h"

namespace moondream::avx2 {

constexpr int kRowsPerPanel = 6;
constexpr int kPanelWidth = 16;

// AVX2, FMA and F16C (what these kernels are compiled for, by target attributes whatever the
// build's baseline) and MOONDREAM_CPU_LEVEL at avx2 or above. Decided once.
bool available();
// The report of a kernel built on these: available() and, when given, `disable_variable` unset.
KernelReport cpu_choice(const char * name, const char * use, const char * disable_variable = nullptr);

inline int64_t row_panels(int64_t m) { return (m + kRowsPerPanel - 1) / kRowsPerPanel; }
inline int64_t weight_panels(int64_t n) { return (n + kPanelWidth - 1) / kPanelWidth; }
inline size_t packed_floats(int64_t m, int64_t k) { return size_t(row_panels(m)) * size_t(k) * kRowsPerPanel; }

// Rows [m][k] (`stride` floats apart) times `scale` -> panels [p][k][6] (rows past m zero), for
// the panels p with p % nth == ith.
void pack_rows(const float * x, size_t stride, int64_t m, int64_t k, float scale, float * packed, int ith, int nth);

// out[i][j] (rows `ldc` floats apart) = sum over k of a[i][k] w[j][k] (+ bias[j]), then the erf GELU
// of it when `gelu`, for i < m and the weight panels [first_panel, last_panel) (16 j each). Whole
// panels are stored: out's rows need room for weight_panels(w.n) * 16 columns (and a bias as many
// values), the columns past w.n holding zeros (plus the bias). `panel_k`: the k each panel of
// `packed` was packed for, when more than w.k (0: w.k); only the first w.k of each are used.
void multiply(const float * packed, int64_t m, const GemmWeights & w, const float * bias, float * out, size_t ldc, int64_t first_panel,
              int64_t last_panel, bool gelu = false, int64_t panel_k = 0);

// dst[j][i] = src[i][j] for i < rows, j < cols (rows of src `ld_src` floats apart, of dst `ld_dst`).
void transpose(const float * src, size_t ld_src, int64_t rows, int64_t cols, float * dst, size_t ld_dst);

// row[j] = exp(row[j] - max of row[0, n)) in place, for j < n (n >= 1); returns their sum: a
// softmax's numerators and denominator.
float exp_row(float * row, int64_t n);

// For each of `rows` rows of s (`ld` floats apart): softmax over its first valid[i] columns (all
// `width` when valid is null), in place, and zeros in columns [valid[i], width).
void softmax_rows(float * s, int64_t rows, size_t ld, int64_t width, const int64_t * valid = nullptr);

}  // namespace moondream::avx2
