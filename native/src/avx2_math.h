// Vectorised float functions for the AVX2 kernels (include only from files that check
// avx2::available() before calling them): avx512_math.h's erf and GELU on 256-bit registers, the
// same polynomials (erf_coefficients.h) in the same order, so both give the same values.
#pragma once

#if defined(__x86_64__)
#include <immintrin.h>

#include <cstdint>

#include "erf_coefficients.h"

namespace moondream::avx2 {

namespace detail {

template <int N>
__attribute__((target("avx2,fma"), always_inline)) inline __m256 horner(__m256 t, const float (&c)[N]) {
    __m256 p = _mm256_set1_ps(c[N - 1]);
    for (int i = N - 2; i >= 0; --i) p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(c[i]));
    return p;
}

}  // namespace detail

// erf(x) within 1.6e-7 of the exact value: erf_coefficients.h's pieces.
__attribute__((target("avx2,fma"), always_inline)) inline __m256 erf(__m256 x) {
    using namespace erf_coefficients;
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256 a = _mm256_andnot_ps(sign, x);
    __m256 y = _mm256_mul_ps(a, detail::horner(_mm256_mul_ps(a, a), kSmall));
    const __m256 middle = _mm256_cmp_ps(a, _mm256_set1_ps(kMiddleFrom), _CMP_GE_OQ);
    if (!_mm256_testz_ps(middle, middle)) {
        const __m256 large = _mm256_cmp_ps(a, _mm256_set1_ps(kLargeFrom), _CMP_GE_OQ);
        y = _mm256_blendv_ps(y, detail::horner(_mm256_sub_ps(a, _mm256_set1_ps(kMiddleCentre)), kMiddle), middle);
        if (!_mm256_testz_ps(large, large)) {
            y = _mm256_blendv_ps(y, detail::horner(_mm256_sub_ps(a, _mm256_set1_ps(kLargeCentre)), kLarge), large);
            // Past 3.93 (and for inf); NaN fails every comparison and stays NaN.
            y = _mm256_blendv_ps(y, _mm256_set1_ps(1.0f), _mm256_cmp_ps(a, _mm256_set1_ps(kOneFrom), _CMP_GE_OQ));
        }
    }
    // erf is odd: the sign of x.
    return _mm256_or_ps(y, _mm256_and_ps(x, sign));
}

// GELU with the exact erf, as PyTorch's default: 0.5 x (1 + erf(x / sqrt(2))).
__attribute__((target("avx2,fma"), always_inline)) inline __m256 gelu_erf(__m256 x) {
    const __m256 e = erf(_mm256_mul_ps(x, _mm256_set1_ps(0.70710678118654752f)));
    return _mm256_mul_ps(_mm256_mul_ps(x, _mm256_set1_ps(0.5f)), _mm256_add_ps(e, _mm256_set1_ps(1.0f)));
}

}  // namespace moondream::avx2

#endif
