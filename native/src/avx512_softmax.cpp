#include "avx512_softmax.h"

#include <cmath>

#if defined(__x86_64__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#include "avx512_math.h"
#define MOONDREAM_AVX512_SOFTMAX 1
#endif

namespace moondream::avx512 {

#if MOONDREAM_AVX512_SOFTMAX

__attribute__((target("avx512f"))) float exp_row(float * row, int64_t n) {
    __m512 top = _mm512_set1_ps(-INFINITY);
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) top = _mm512_max_ps(top, _mm512_loadu_ps(row + j));
    const __mmask16 tail = __mmask16((1u << (n - j)) - 1);
    if (j < n) top = _mm512_mask_max_ps(top, tail, top, _mm512_maskz_loadu_ps(tail, row + j));
    const __m512 best = _mm512_set1_ps(_mm512_reduce_max_ps(top));
    __m512 sum = _mm512_setzero_ps();
    for (j = 0; j + 16 <= n; j += 16) {
        const __m512 e = exp_nonpositive(_mm512_sub_ps(_mm512_loadu_ps(row + j), best));
        _mm512_storeu_ps(row + j, e);
        sum = _mm512_add_ps(sum, e);
    }
    if (j < n) {
        const __m512 e = _mm512_maskz_mov_ps(tail, exp_nonpositive(_mm512_sub_ps(_mm512_maskz_loadu_ps(tail, row + j), best)));
        _mm512_mask_storeu_ps(row + j, tail, e);
        sum = _mm512_add_ps(sum, e);
    }
    return _mm512_reduce_add_ps(sum);
}

namespace {

__attribute__((target("avx512f"))) void softmax_row(float * row, int64_t n, int64_t width) {
    const __m512 inverse = _mm512_set1_ps(1.0f / exp_row(row, n));
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) _mm512_storeu_ps(row + j, _mm512_mul_ps(_mm512_loadu_ps(row + j), inverse));
    const __mmask16 tail = __mmask16((1u << (n - j)) - 1);
    if (j < n) _mm512_mask_storeu_ps(row + j, tail, _mm512_mul_ps(_mm512_maskz_loadu_ps(tail, row + j), inverse));
    for (j = n; j < width; ++j) row[j] = 0.0f;
}

}  // namespace

void softmax_rows(float * s, int64_t rows, size_t ld, int64_t width, const int64_t * valid) {
    for (int64_t i = 0; i < rows; ++i) softmax_row(s + size_t(i) * ld, valid != nullptr ? valid[i] : width, width);
}

#else

void softmax_rows(float *, int64_t, size_t, int64_t, const int64_t *) {}
float exp_row(float *, int64_t) { return 0.0f; }

#endif

}  // namespace moondream::avx512
