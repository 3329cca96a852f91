// The row softmax the attention kernels (vision_attention.h, prefill_attention.h) share.
#pragma once

#include <cstddef>
#include <cstdint>

namespace moondream::avx512 {

// For each of `rows` rows of s (`ld` floats apart): softmax over its first valid[i] columns (all
// `width` when valid is null), in place, and zeros in columns [valid[i], width): a causal row's
// masked keys then add nothing to the product with the values. Needs avx512::available().
void softmax_rows(float * s, int64_t rows, size_t ld, int64_t width, const int64_t * valid = nullptr);

}  // namespace moondream::avx512
