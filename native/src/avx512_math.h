// Vectorised float functions for the AVX-512 kernels (include only from files that check
// avx512::available() before calling them).
#pragma once

#if defined(__x86_64__)
#include <immintrin.h>

#include <cstdint>

#include "erf_coefficients.h"

namespace moondream::avx512 {

// e^x for x <= 0 (softmax arguments), about 1 ulp: x = n ln2 + r with |r| <= ln2 / 2, e^r from its
// Taylor series to r^7 / 7! (the first term left out is below 2^-24 relative there), scaled by 2^n.
__attribute__((target("avx512f"), always_inline)) inline __m512 exp_nonpositive(__m512 x) {
    x = _mm512_max_ps(x, _mm512_set1_ps(-104.0f));  // e^-104 is below the smallest subnormal
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    // r = x - n ln2, with ln2 split in two so that n * hi is exact.
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606765330187045e-06f), r);
    __m512 p = _mm512_set1_ps(1.0f / 5040.0f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
}

namespace detail {

template <int N>
__attribute__((target("avx512f"), always_inline)) inline __m512 horner(__m512 t, const float (&c)[N]) {
    __m512 p = _mm512_set1_ps(c[N - 1]);
    for (int i = N - 2; i >= 0; --i) p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(c[i]));
    return p;
}

}  // namespace detail

// erf(x) within 1.6e-7 of the exact value (about 2 ulp near 1): erf_coefficients.h's pieces.
__attribute__((target("avx512f"), always_inline)) inline __m512 erf(__m512 x) {
    using namespace erf_coefficients;
    const __m512 a = _mm512_abs_ps(x);
    __m512 y = _mm512_mul_ps(a, detail::horner(_mm512_mul_ps(a, a), kSmall));
    const __mmask16 middle = _mm512_cmp_ps_mask(a, _mm512_set1_ps(kMiddleFrom), _CMP_GE_OQ);
    if (middle) {
        const __mmask16 large = _mm512_cmp_ps_mask(a, _mm512_set1_ps(kLargeFrom), _CMP_GE_OQ);
        y = _mm512_mask_mov_ps(y, middle, detail::horner(_mm512_sub_ps(a, _mm512_set1_ps(kMiddleCentre)), kMiddle));
        if (large) {
            y = _mm512_mask_mov_ps(y, large, detail::horner(_mm512_sub_ps(a, _mm512_set1_ps(kLargeCentre)), kLarge));
            // Past 3.93 (and for inf); NaN fails every comparison and stays NaN.
            y = _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(a, _mm512_set1_ps(kOneFrom), _CMP_GE_OQ), _mm512_set1_ps(1.0f));
        }
    }
    // erf is odd: the sign of x.
    return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(y), _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(INT32_MIN))));
}

// GELU with the exact erf, as PyTorch's default: 0.5 x (1 + erf(x / sqrt(2))).
__attribute__((target("avx512f"), always_inline)) inline __m512 gelu_erf(__m512 x) {
    const __m512 e = erf(_mm512_mul_ps(x, _mm512_set1_ps(0.70710678118654752f)));
    return _mm512_mul_ps(_mm512_mul_ps(x, _mm512_set1_ps(0.5f)), _mm512_add_ps(e, _mm512_set1_ps(1.0f)));
}

}  // namespace moondream::avx512

#endif
