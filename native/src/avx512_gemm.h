// A blocked fp32 matrix product for AVX-512, out = a w^T (+ bias), shared by the f16 weight
// matmuls (f16_matrix.h) and the vision attention (vision_attention.h).
//
// `a` (the activations, m rows of k) is packed first into panels of 12 rows interleaved by k, so
// the inner loop broadcasts 12 values from one cache line. `w` (n rows of k, f16 or f32, rows
// `stride` elements apart) is converted, 8 panels of 32 rows and 512 k at a time, into an f32
// buffer laid out by k, which stays in L2 while every row panel of `a` passes over it (its chunk of
// activations in L1, serving all 8 panels): the inner loop is two aligned loads, 12 broadcasts and
// 24 FMAs into a 12 x 32 register tile. 512 k rather than 256: 11% faster on the vision matmuls
// (kernel_bench f16, three interleaved runs), the accumulators reloaded half as often.
#pragma once

#include <cstddef>
#include <cstdint>

#include "gemm_weights.h"
#include "moondream_cpu.h"

namespace moondream::avx512 {

constexpr int kRowsPerPanel = 12;
constexpr int kPanelWidth = 32;

// AVX-512 F, BW and VL (what these kernels are compiled for, by target attributes whatever the
// build's baseline) and MOONDREAM_CPU_LEVEL at avx512 or above. Decided once.
bool available();
// The report of a kernel built on these (f16_matrix, vision_attention): available() and, when
// given, `disable_variable` unset.
KernelReport cpu_choice(const char * name, const char * use, const char * disable_variable = nullptr);

inline int64_t row_panels(int64_t m) { return (m + kRowsPerPanel - 1) / kRowsPerPanel; }
inline int64_t weight_panels(int64_t n) { return (n + kPanelWidth - 1) / kPanelWidth; }
inline size_t packed_floats(int64_t m, int64_t k) { return size_t(row_panels(m)) * size_t(k) * kRowsPerPanel; }

// Rows [m][k] (`stride` floats apart) times `scale` -> panels [p][k][12] (rows past m zero), for
// the panels p with p % nth == ith.
void pack_rows(const float * x, size_t stride, int64_t m, int64_t k, float scale, float * packed, int ith, int nth);

using WeightRows = GemmWeights;

// dst[j][i] = src[i][j] for i < rows, j < cols (rows of src `ld_src` floats apart, of dst `ld_dst`):
// how the attention kernels turn their O^T into the [e, n] layout, 16 x 16 blocks at a time.
void transpose(const float * src, size_t ld_src, int64_t rows, int64_t cols, float * dst, size_t ld_dst);

// What is applied to each output before it is stored.
enum class Epilogue { none, gelu_erf };

// out[i][j] (rows `ldc` floats apart) = f(sum over k of a[i][k] w[j][k] (+ bias[j])) for i < m and
// the weight panels [first_panel, last_panel) (32 j each, the last one possibly narrower).
// `panel_k`: the k each panel of `packed` was packed for, when more than w.k (0: w.k); only the
// first w.k of each are used.
void multiply(const float * packed, int64_t m, const WeightRows & w, const float * bias, float * out, size_t ldc,
              int64_t first_panel, int64_t last_panel, Epilogue epilogue = Epilogue::none, int64_t panel_k = 0);

// For an operand many products share (an attention head's keys, used by every block of queries):
// all of w converted once into the layout multiply() converts a chunk into, panels [p][w.k][32]
// (rows past w.n zero): weight_panels(w.n) * w.k * 32 floats.
void convert_panels(const WeightRows & w, float * out);

// out[i][j] (rows `ldc` floats apart) = sum over k of a[i][k] w[j][k] for i < m, j < n, with w
// already in panels [p][panel_stride][32] (convert_panels, or laid out so by the caller) and `packed`
// as multiply's, each panel packed for `panel_k`. `row_n`, `row_k` (each nullable): per row panel
// of `packed`, the outputs and the k it needs; a causal attention's rows need no score past their
// last key, nor any probability there (which is zero). Outputs a row panel does not need are not
// written.
void multiply_converted(const float * packed, int64_t m, int64_t panel_k, const float * panels, size_t panel_stride, int64_t n, int64_t k,
                        float * out, size_t ldc, const int64_t * row_n, const int64_t * row_k);

}  // namespace moondream::avx512
