#include "decode_attention.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "cpu_level.h"

#if defined(__x86_64__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#include "avx512_math.h"
#define MOONDREAM_DECODE_ATTENTION 1
#endif

namespace moondream {

namespace {

// Where the scale rides in op_params: ggml keeps the custom op's own parameters (function, task
// count, user data: 24 bytes) at the start of those 64 bytes; the last 4 are free.
constexpr size_t kScaleOffset = sizeof(ggml_tensor::op_params) - sizeof(float);
static_assert(kScaleOffset >= 3 * sizeof(void *), "op_params has no room for the scale");

#if MOONDREAM_DECODE_ATTENTION

template <int HD>
__attribute__((target("avx512f"))) void one_head(const float * q, const uint8_t * k, size_t k_row, const uint8_t * v, size_t v_row,
                                               const ggml_fp16_t * mask, int64_t n_kv, float scale, float * scores, float * out) {
    constexpr int NV = HD / 16;
    __m512 qv[NV];
    for (int c = 0; c < NV; ++c) qv[c] = _mm512_mul_ps(_mm512_loadu_ps(q + 16 * c), _mm512_set1_ps(scale));
    // Pass 1: scores, -inf where the mask says so.
    float best = -INFINITY;
    for (int64_t j = 0; j < n_kv; ++j) {
        const float m = ggml_fp16_to_fp32(mask[j]);
        if (m == -INFINITY) {
            scores[j] = -INFINITY;
            continue;
        }
        const auto * kj = reinterpret_cast<const __m256i *>(k + size_t(j) * k_row);
        __m512 acc = _mm512_mul_ps(qv[0], _mm512_cvtph_ps(_mm256_loadu_si256(kj)));
        for (int c = 1; c < NV; ++c) acc = _mm512_fmadd_ps(qv[c], _mm512_cvtph_ps(_mm256_loadu_si256(kj + c)), acc);
        const float s = _mm512_reduce_add_ps(acc) + m;
        scores[j] = s;
        best = std::max(best, s);
    }
    __m512 o[NV];
    for (int c = 0; c < NV; ++c) o[c] = _mm512_setzero_ps();
    if (best == -INFINITY) {  // nothing to attend to: zeros, as ggml gives
        for (int c = 0; c < NV; ++c) _mm512_storeu_ps(out + 16 * c, o[c]);
        return;
    }
    // Softmax numerators, 16 at a time.
    const __m512 top = _mm512_set1_ps(best);
    __m512 sum = _mm512_setzero_ps();
    int64_t j = 0;
    for (; j + 16 <= n_kv; j += 16) {
        const __m512 e = avx512::exp_nonpositive(_mm512_sub_ps(_mm512_loadu_ps(scores + j), top));
        _mm512_storeu_ps(scores + j, e);
        sum = _mm512_add_ps(sum, e);
    }
    if (j < n_kv) {
        const __mmask16 tail = __mmask16((1u << (n_kv - j)) - 1);
        const __m512 e = avx512::exp_nonpositive(_mm512_sub_ps(_mm512_maskz_loadu_ps(tail, scores + j), top));
        _mm512_mask_storeu_ps(scores + j, tail, e);
        sum = _mm512_add_ps(sum, _mm512_maskz_mov_ps(tail, e));
    }
    // Pass 2: the weighted sum of the values.
    for (int64_t i = 0; i < n_kv; ++i) {
        const float p = scores[i];
        if (p == 0.0f) continue;  // masked (e^-inf) or negligible
        const __m512 pv = _mm512_set1_ps(p);
        const auto * vi = reinterpret_cast<const __m256i *>(v + size_t(i) * v_row);
        for (int c = 0; c < NV; ++c) o[c] = _mm512_fmadd_ps(pv, _mm512_cvtph_ps(_mm256_loadu_si256(vi + c)), o[c]);
    }
    const __m512 inverse = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(sum));
    for (int c = 0; c < NV; ++c) _mm512_storeu_ps(out + 16 * c, _mm512_mul_ps(o[c], inverse));
}

#endif  // MOONDREAM_DECODE_ATTENTION

// src: q, keys, values, mask; the scale at kScaleOffset of op_params.
void attention_op(ggml_tensor * dst, int ith, int nth, void *) {
#if MOONDREAM_DECODE_ATTENTION
    const ggml_tensor * q = dst->src[0];
    const ggml_tensor * k = dst->src[1];
    const ggml_tensor * v = dst->src[2];
    const ggml_tensor * mask = dst->src[3];
    float scale;
    std::memcpy(&scale, reinterpret_cast<const char *>(dst->op_params) + kScaleOffset, sizeof scale);
    const int64_t head_dim = q->ne[0];
    const int64_t n_head = q->ne[1];
    const int64_t n_kv = k->ne[1];
    thread_local std::vector<float> scores;
    scores.resize(size_t(n_kv));
    for (int64_t h = ith; h < n_head; h += nth) {
        const auto * qh = reinterpret_cast<const float *>(static_cast<const char *>(q->data) + size_t(h) * q->nb[1]);
        const auto * kh = static_cast<const uint8_t *>(k->data) + size_t(h) * k->nb[2];
        const auto * vh = static_cast<const uint8_t *>(v->data) + size_t(h) * v->nb[2];
        float * out = static_cast<float *>(dst->data) + size_t(h * head_dim);
        const auto * m = static_cast<const ggml_fp16_t *>(mask->data);
        switch (head_dim) {
            case 64: one_head<64>(qh, kh, k->nb[1], vh, v->nb[1], m, n_kv, scale, scores.data(), out); break;
            case 128: one_head<128>(qh, kh, k->nb[1], vh, v->nb[1], m, n_kv, scale, scores.data(), out); break;
            case 32: one_head<32>(qh, kh, k->nb[1], vh, v->nb[1], m, n_kv, scale, scores.data(), out); break;
            default: one_head<16>(qh, kh, k->nb[1], vh, v->nb[1], m, n_kv, scale, scores.data(), out); break;
        }
    }
#else
    (void)dst;
    (void)ith;
    (void)nth;
#endif
}

}  // namespace

namespace {

KernelReport cpu_choice(const char * disable_variable) {
#if MOONDREAM_DECODE_ATTENTION
    __builtin_cpu_init();
    return avx512_kernel_choice("decode_attention", __builtin_cpu_supports("avx512f") != 0, "AVX-512 F",
                                "each decode step's attention over the KV cache uses it", disable_variable);
#else
    (void)disable_variable;
    return KernelReport{"decode_attention", false, "built only for x86-64"};
#endif
}

}  // namespace

KernelReport decode_attention_cpu_choice() { return cpu_choice("MOONDREAM_DISABLE_DECODE_ATTENTION"); }

bool decode_attention_supported(int64_t head_dim) {
#if MOONDREAM_DECODE_ATTENTION
    static const bool cpu = cpu_choice(nullptr).chosen;
    return cpu && std::getenv("MOONDREAM_DISABLE_DECODE_ATTENTION") == nullptr && (head_dim == 16 || head_dim == 32 || head_dim == 64 || head_dim == 128);
#else
    (void)head_dim;
    return false;
#endif
}

ggml_tensor * decode_attention(ggml_context * ctx, ggml_tensor * q, ggml_tensor * keys, ggml_tensor * values, ggml_tensor * mask, float scale) {
    ggml_tensor * args[4] = {q, keys, values, mask};
    ggml_tensor * out = ggml_custom_4d(ctx, GGML_TYPE_F32, q->ne[0] * q->ne[1], 1, 1, 1, args, 4, attention_op, GGML_N_TASKS_MAX, nullptr);
    ggml_set_name(out, "decode_attention");  // what an op profile calls it
    std::memcpy(reinterpret_cast<char *>(out->op_params) + kScaleOffset, &scale, sizeof scale);
    return out;
}

}  // namespace moondream
