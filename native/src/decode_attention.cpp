#include "decode_attention.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "avx512_softmax.h"
#include "cpu_level.h"

#if defined(__x86_64__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#define MOONDREAM_DECODE_ATTENTION 1
#endif

namespace moondream {

namespace {

// Where the scale rides in op_params: ggml keeps the custom op's own parameters (function, task
// count, user data: 24 bytes) at the start of those 64 bytes; the last 4 are free.
constexpr size_t kScaleOffset = sizeof(ggml_tensor::op_params) - sizeof(float);
static_assert(kScaleOffset >= 3 * sizeof(void *), "op_params has no room for the scale");

#if MOONDREAM_DECODE_ATTENTION

// How many positions ahead the keys and values are fetched. Prefetching past the cache's end is
// harmless (a prefetch never faults).
constexpr int64_t kPrefetchRows = 16;

__attribute__((always_inline)) inline void prefetch_bytes(const uint8_t * at, size_t bytes) {
    for (size_t offset = 0; offset < bytes; offset += 64) _mm_prefetch(reinterpret_cast<const char *>(at + offset), _MM_HINT_T2);
}

// Heads [0, n_heads) of a thread's contiguous share; their slice of each cache row is contiguous.
// Position by position, not head by head: one head's rows sit a whole cache row apart (4 KiB for
// Phi-1.5, a new page each), so a walk down one head missed the TLB and outran the hardware
// prefetchers at every key; walking the rows reads each thread's slice of a row in one go.
template <int HD>
__attribute__((target("avx512f"))) void heads(const float * q, size_t q_head, const uint8_t * k, size_t k_row, const uint8_t * v,
                                            size_t v_row, const ggml_fp16_t * mask, int64_t n_kv, int64_t n_heads, float scale,
                                            float * scores, float * acc, float * out) {
    constexpr int NV = HD / 16;
    const size_t slice = size_t(n_heads) * HD * sizeof(ggml_fp16_t);
    // Pass 1: scores [head][position], -inf where the mask says so.
    int64_t visible = 0;
    for (int64_t j = 0; j < n_kv; ++j) {
        prefetch_bytes(k + size_t(j + kPrefetchRows) * k_row, slice);
        const float m = mask[j] == 0 ? 0.0f : ggml_fp16_to_fp32(mask[j]);
        if (m == -INFINITY) {
            for (int64_t h = 0; h < n_heads; ++h) scores[size_t(h) * size_t(n_kv) + size_t(j)] = -INFINITY;
            continue;
        }
        ++visible;
        const auto * row = reinterpret_cast<const __m256i *>(k + size_t(j) * k_row);
        for (int64_t h = 0; h < n_heads; ++h) {
            const float * qh = q + size_t(h) * q_head;
            const __m256i * kh = row + h * NV;
            __m512 dot = _mm512_mul_ps(_mm512_loadu_ps(qh), _mm512_cvtph_ps(_mm256_loadu_si256(kh)));
            for (int c = 1; c < NV; ++c) dot = _mm512_fmadd_ps(_mm512_loadu_ps(qh + 16 * c), _mm512_cvtph_ps(_mm256_loadu_si256(kh + c)), dot);
            scores[size_t(h) * size_t(n_kv) + size_t(j)] = _mm512_reduce_add_ps(dot) * scale + m;
        }
    }
    if (visible == 0) {  // nothing to attend to: zeros, as ggml gives
        for (int64_t h = 0; h < n_heads; ++h) std::memset(out + size_t(h) * HD, 0, HD * sizeof(float));
        return;
    }
    // Pass 2: each head's softmax numerators and their sum.
    for (int64_t h = 0; h < n_heads; ++h) acc[size_t(n_heads) * HD + size_t(h)] = avx512::exp_row(scores + size_t(h) * size_t(n_kv), n_kv);
    // Pass 3: the weighted sums of the values, row by row, the accumulators in L1.
    std::memset(acc, 0, size_t(n_heads) * HD * sizeof(float));
    for (int64_t j = 0; j < n_kv; ++j) {
        prefetch_bytes(v + size_t(j + kPrefetchRows) * v_row, slice);
        const auto * row = reinterpret_cast<const __m256i *>(v + size_t(j) * v_row);
        for (int64_t h = 0; h < n_heads; ++h) {
            const float p = scores[size_t(h) * size_t(n_kv) + size_t(j)];
            if (p == 0.0f) continue;  // masked (e^-inf) or negligible
            const __m512 pv = _mm512_set1_ps(p);
            float * o = acc + size_t(h) * HD;
            for (int c = 0; c < NV; ++c) {
                _mm512_storeu_ps(o + 16 * c, _mm512_fmadd_ps(pv, _mm512_cvtph_ps(_mm256_loadu_si256(row + h * NV + c)), _mm512_loadu_ps(o + 16 * c)));
            }
        }
    }
    for (int64_t h = 0; h < n_heads; ++h) {
        const __m512 inverse = _mm512_set1_ps(1.0f / acc[size_t(n_heads) * HD + size_t(h)]);
        for (int c = 0; c < NV; ++c) _mm512_storeu_ps(out + size_t(h) * HD + 16 * c, _mm512_mul_ps(_mm512_loadu_ps(acc + size_t(h) * HD + 16 * c), inverse));
    }
}

#endif  // MOONDREAM_DECODE_ATTENTION

// src: q, keys, values, mask; the scale at kScaleOffset of op_params. Each thread takes a
// contiguous share of the heads.
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
    const int64_t per = (n_head + nth - 1) / nth;
    const int64_t first = std::min<int64_t>(n_head, ith * per);
    const int64_t count = std::min<int64_t>(n_head, first + per) - first;
    if (count <= 0) return;
    thread_local std::vector<float> scores, acc;
    scores.resize(size_t(count) * size_t(n_kv));
    acc.resize(size_t(count) * size_t(head_dim + 1));
    const auto * qh = reinterpret_cast<const float *>(static_cast<const char *>(q->data) + size_t(first) * q->nb[1]);
    const size_t q_head = q->nb[1] / sizeof(float);
    const auto * kh = static_cast<const uint8_t *>(k->data) + size_t(first) * k->nb[2];
    const auto * vh = static_cast<const uint8_t *>(v->data) + size_t(first) * v->nb[2];
    float * out = static_cast<float *>(dst->data) + size_t(first * head_dim);
    const auto * m = static_cast<const ggml_fp16_t *>(mask->data);
    switch (head_dim) {
        case 64: heads<64>(qh, q_head, kh, k->nb[1], vh, v->nb[1], m, n_kv, count, scale, scores.data(), acc.data(), out); break;
        case 128: heads<128>(qh, q_head, kh, k->nb[1], vh, v->nb[1], m, n_kv, count, scale, scores.data(), acc.data(), out); break;
        case 32: heads<32>(qh, q_head, kh, k->nb[1], vh, v->nb[1], m, n_kv, count, scale, scores.data(), acc.data(), out); break;
        default: heads<16>(qh, q_head, kh, k->nb[1], vh, v->nb[1], m, n_kv, count, scale, scores.data(), acc.data(), out); break;
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
