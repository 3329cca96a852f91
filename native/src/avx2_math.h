// Vectorised float functions for the AVX2 kernels (include only from files that check
// avx2::available() before calling them): avx512_math.h's exp, erf and GELU on 256-bit registers,
// the same polynomials (erf_coefficients.h) in the same order.
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

// e^x for x <= 0 (softmax arguments), as avx512_math.h's exp_nonpositive, except that 2^n is put
// together in the exponent bits, so x is clamped at -87 (e^-87 is about 1.6e-38, the smallest
// normal float's order; AVX-512 reaches on into the subnormals, a difference below 1.2e-38).
__attribute__((target("avx2,fma"), always_inline)) inline __m256 exp_nonpositive(__m256 x) {
    x = _mm256_max_ps(x, _mm256_set1_ps(-87.0f));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    // r = x - n ln2, with ln2 split in two so that n * hi is exact.
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145751953125f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.428606765330187045e-06f), r);
    __m256 p = _mm256_set1_ps(1.0f / 5040.0f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 720.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    const __m256i scale = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(scale));
}

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
