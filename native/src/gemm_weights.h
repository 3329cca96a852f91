// The "weight" operand of our blocked fp32 products (avx512_gemm.h, avx2_gemm.h): n rows of k
// values, f32, f16 or bf16, `stride` elements apart, widened to f32 as they are packed. The
// attention kernels pass keys and probabilities as such rows too.
#pragma once

#include <cstddef>
#include <cstdint>

namespace moondream {

enum class WeightFormat { f32, f16, bf16 };

struct GemmWeights {
    const void * data;
    WeightFormat format;
    size_t stride;  // elements between rows
    int64_t n;
    int64_t k;
};

}  // namespace moondream
