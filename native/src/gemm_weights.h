// The "weight" operand of our blocked fp32 products (avx512_gemm.h, avx2_gemm.h): n rows of k
// values, f16 or f32, `stride` elements apart. The attention kernels pass keys and probabilities
// as such rows too.
#pragma once

#include <cstddef>
#include <cstdint>

namespace moondream {

struct GemmWeights {
    const void * data;
    bool half;      // f16 (ggml_fp16_t) or f32
    size_t stride;  // elements between rows
    int64_t n;
    int64_t k;
};

}  // namespace moondream
