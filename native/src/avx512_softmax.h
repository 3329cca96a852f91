// The row softmax the attention kernels (vision_attention.h, prefill_attention.h) share.
#pragma once

#include <cstddef>
#include <cstdint>

namespace moondream::avx512 {

// For each of `rows` rows of s (`ld` floats apart): softmax over its first valid[i] columns (all
// `width` when valid is null), in place, and zeros in columns [valid[i], width): a causal row's
// masked keys then add nothing to the product with the values. Needs avx512::available().
void softmax_rows(float * s, int64_t rows, size_t ld, int64_t width, const int64_t * valid = nullptr);

// row[j] = exp(row[j] - max of row[0, n)) in place, for j < n (n >= 1); returns their sum: a
// softmax's numerators and denominator. Needs avx512::available().
float exp_row(float * row, int64_t n);

}  // namespace moondream::avx512
