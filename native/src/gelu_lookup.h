// ggml's fast GELU for 16 floats at once, from the table compute_gelu_table() builds (gelu_table.h):
// shared by the GELU op and the VNNI kernels, which apply it as they store a product (fused).
#pragma once

#if defined(__x86_64__)
#include <immintrin.h>

namespace moondream::avx512 {

// ggml_gelu(v): v rounded to f16 (nearest even) indexes the table; 0 at or below -10, v at or
// above 10, as ggml_gelu has it.
__attribute__((target("avx512f"), always_inline)) inline __m512 gelu_lookup(__m512 v, const float * table) {
    const __m512i index = _mm512_cvtepu16_epi32(_mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    __m512 out = _mm512_i32gather_ps(index, table, 4);
    out = _mm512_mask_mov_ps(out, _mm512_cmp_ps_mask(v, _mm512_set1_ps(-10.0f), _CMP_LE_OQ), _mm512_setzero_ps());
    return _mm512_mask_mov_ps(out, _mm512_cmp_ps_mask(v, _mm512_set1_ps(10.0f), _CMP_GE_OQ), v);
}

}  // namespace moondream::avx512
#endif
