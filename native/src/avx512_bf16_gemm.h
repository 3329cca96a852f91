// A blocked bf16 matrix product for AVX-512 BF16, out = a w^T (+ bias), for bf16 weight matmuls
// (the vision tower of a bf16 mmproj, f16_matrix.h).
//
// VDPBF16PS multiplies two bf16 pairs per 32-bit lane and adds both products to an f32 sum: on
// Zen 4 it issues at the rate of a 512-bit FMA, so it does twice the multiply-adds (465 against
// 350 GFLOP/s on one core of the Zen 4 EPYC this was written on, a loop of each alone). The price is
// that the activations are rounded to bf16 as they are packed (8 significant bits), on top of the
// weights' own rounding; the sums stay f32. The layout is avx512_gemm.h's with a pair of k where it
// has one k: activations in panels of 12 rows [k/2][12] (each element a bf16 pair), weights
// converted per call, 8 panels of 32 rows and 512 pairs at a time, into [pairs][32] (the bf16 rows
// are already pairs: the conversion is a transpose of 32-bit elements).
#pragma once

#include <cstddef>
#include <cstdint>

#include "avx512_gemm.h"
#include "gemm_weights.h"
#include "moondream_cpu.h"

namespace moondream::avx512_bf16 {

// avx512_gemm.h's panels, so a buffer laid out for one (the attention's score rows, padded to
// whole weight panels) serves the other.
using avx512::kPanelWidth;
using avx512::kRowsPerPanel;
using avx512::row_panels;
using avx512::weight_panels;

// avx512::available() and the CPU has AVX512_BF16. Decided once.
bool available();
// The report of a kernel built on this: available() and, when given, `disable_variable` unset.
KernelReport cpu_choice(const char * name, const char * use, const char * disable_variable = nullptr);

// 32-bit elements (bf16 pairs) of m packed rows of k (k even).
inline size_t packed_pairs(int64_t m, int64_t k) { return size_t(row_panels(m)) * size_t(k / 2) * kRowsPerPanel; }

// Rows [m][k] f32 (`stride` floats apart, k even) times `scale` -> bf16 pairs, rounded to nearest
// even, in panels [p][k/2][12] (rows past m zero), for the panels p with p % nth == ith.
void pack_rows(const float * x, size_t stride, int64_t m, int64_t k, float scale, uint32_t * packed, int ith, int nth);

// out[i][j] (rows `ldc` floats apart) = sum over k of a[i][k] w[j][k] (+ bias[j]), through the erf
// GELU when `gelu`, for i < m and the weight panels [first_panel, last_panel). `w`: bf16, or f32
// rounded to bf16 as it is converted (the attention's keys and probabilities); k even.
void multiply(const uint32_t * packed, int64_t m, const GemmWeights & w, const float * bias, float * out, size_t ldc, int64_t first_panel,
              int64_t last_panel, bool gelu);

}  // namespace moondream::avx512_bf16
