#include "decode_attention.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "avx2_gemm.h"
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

// Partial results per thread: for each head its unnormalised weighted value sum, the scores'
// maximum and the sum of exp(score - maximum) over the thread's positions. Room for this many
// threads; threads beyond it take no positions.
constexpr int64_t kMaxParts = 64;
size_t part_floats(int64_t head_dim, int64_t n_head) { return size_t(n_head) * size_t(head_dim + 2); }

#if MOONDREAM_DECODE_ATTENTION

// Positions [0, n) of the cache for every head: the thread's share of positions is contiguous, so
// it streams whole cache rows in order, which the hardware prefetchers follow. Split by heads,
// each thread read its half of every 4 KiB row and prefetched it by hand: the attention waited
// for memory at about 22 GB/s, against 50+ for the weights (q4_0 decode at depth 750, alternating:
// 38.1-40.9 tok/s split by heads, 42.5-49.4 by positions).
template <int HD>
__attribute__((target("avx512f"))) void span(const float * q, size_t q_head, const uint8_t * k, size_t k_row, const uint8_t * v,
                                           size_t v_row, const ggml_fp16_t * mask, int64_t n, int64_t n_heads, float scale,
                                           float * scores, float * part) {
    constexpr int NV = HD / 16;
    const size_t stride = HD + 2;
    for (int64_t h = 0; h < n_heads; ++h) {
        float * p = part + size_t(h) * stride;
        std::memset(p, 0, HD * sizeof(float));
        p[HD] = -INFINITY;
        p[HD + 1] = 0.0f;
    }
    // Pass 1: scores [head][position], -inf where the mask says so.
    int64_t visible = 0;
    for (int64_t j = 0; j < n; ++j) {
        const float m = mask[j] == 0 ? 0.0f : ggml_fp16_to_fp32(mask[j]);
        if (m == -INFINITY) {
            for (int64_t h = 0; h < n_heads; ++h) scores[size_t(h) * size_t(n) + size_t(j)] = -INFINITY;
            continue;
        }
        ++visible;
        const auto * row = reinterpret_cast<const __m256i *>(k + size_t(j) * k_row);
        for (int64_t h = 0; h < n_heads; ++h) {
            const float * qh = q + size_t(h) * q_head;
            const __m256i * kh = row + h * NV;
            __m512 dot = _mm512_mul_ps(_mm512_loadu_ps(qh), _mm512_cvtph_ps(_mm256_loadu_si256(kh)));
            for (int c = 1; c < NV; ++c) dot = _mm512_fmadd_ps(_mm512_loadu_ps(qh + 16 * c), _mm512_cvtph_ps(_mm256_loadu_si256(kh + c)), dot);
            scores[size_t(h) * size_t(n) + size_t(j)] = _mm512_reduce_add_ps(dot) * scale + m;
        }
    }
    if (visible == 0) return;  // nothing here to attend to: the merge skips this part
    // Pass 2: each head's maximum, softmax numerators and their sum.
    for (int64_t h = 0; h < n_heads; ++h) {
        float * row = scores + size_t(h) * size_t(n);
        float maximum = -INFINITY;
        for (int64_t j = 0; j < n; ++j) maximum = std::max(maximum, row[j]);
        part[size_t(h) * stride + HD] = maximum;
        part[size_t(h) * stride + HD + 1] = avx512::exp_row(row, n);
    }
    // Pass 3: the weighted sums of the values, row by row, the accumulators in L1.
    for (int64_t j = 0; j < n; ++j) {
        const auto * row = reinterpret_cast<const __m256i *>(v + size_t(j) * v_row);
        for (int64_t h = 0; h < n_heads; ++h) {
            const float p = scores[size_t(h) * size_t(n) + size_t(j)];
            if (p == 0.0f) continue;  // masked (e^-inf) or negligible
            const __m512 pv = _mm512_set1_ps(p);
            float * o = part + size_t(h) * stride;
            for (int c = 0; c < NV; ++c) {
                _mm512_storeu_ps(o + 16 * c, _mm512_fmadd_ps(pv, _mm512_cvtph_ps(_mm256_loadu_si256(row + h * NV + c)), _mm512_loadu_ps(o + 16 * c)));
            }
        }
    }
}

// span() on AVX2 and FMA, for CPUs without AVX-512: the same three passes, 8 lanes at a time.
template <int HD>
__attribute__((target("avx2,fma,f16c"))) void span_avx2(const float * q, size_t q_head, const uint8_t * k, size_t k_row, const uint8_t * v,
                                                       size_t v_row, const ggml_fp16_t * mask, int64_t n, int64_t n_heads, float scale,
                                                       float * scores, float * part) {
    constexpr int NV = HD / 8;
    const size_t stride = HD + 2;
    for (int64_t h = 0; h < n_heads; ++h) {
        float * p = part + size_t(h) * stride;
        std::memset(p, 0, HD * sizeof(float));
        p[HD] = -INFINITY;
        p[HD + 1] = 0.0f;
    }
    int64_t visible = 0;
    for (int64_t j = 0; j < n; ++j) {
        const float m = mask[j] == 0 ? 0.0f : ggml_fp16_to_fp32(mask[j]);
        if (m == -INFINITY) {
            for (int64_t h = 0; h < n_heads; ++h) scores[size_t(h) * size_t(n) + size_t(j)] = -INFINITY;
            continue;
        }
        ++visible;
        const auto * row = reinterpret_cast<const __m128i *>(k + size_t(j) * k_row);
        for (int64_t h = 0; h < n_heads; ++h) {
            const float * qh = q + size_t(h) * q_head;
            const __m128i * kh = row + h * NV;
            __m256 dot = _mm256_mul_ps(_mm256_loadu_ps(qh), _mm256_cvtph_ps(_mm_loadu_si128(kh)));
            for (int c = 1; c < NV; ++c) dot = _mm256_fmadd_ps(_mm256_loadu_ps(qh + 8 * c), _mm256_cvtph_ps(_mm_loadu_si128(kh + c)), dot);
            __m128 s4 = _mm_add_ps(_mm256_extractf128_ps(dot, 1), _mm256_castps256_ps128(dot));
            s4 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
            s4 = _mm_add_ss(s4, _mm_movehdup_ps(s4));
            scores[size_t(h) * size_t(n) + size_t(j)] = _mm_cvtss_f32(s4) * scale + m;
        }
    }
    if (visible == 0) return;
    for (int64_t h = 0; h < n_heads; ++h) {
        float * row = scores + size_t(h) * size_t(n);
        float maximum = -INFINITY;
        for (int64_t j = 0; j < n; ++j) maximum = std::max(maximum, row[j]);
        part[size_t(h) * stride + HD] = maximum;
        part[size_t(h) * stride + HD + 1] = avx2::exp_row(row, n);
    }
    for (int64_t j = 0; j < n; ++j) {
        const auto * row = reinterpret_cast<const __m128i *>(v + size_t(j) * v_row);
        for (int64_t h = 0; h < n_heads; ++h) {
            const float p = scores[size_t(h) * size_t(n) + size_t(j)];
            if (p == 0.0f) continue;
            const __m256 pv = _mm256_set1_ps(p);
            float * o = part + size_t(h) * stride;
            for (int c = 0; c < NV; ++c) {
                _mm256_storeu_ps(o + 8 * c, _mm256_fmadd_ps(pv, _mm256_cvtph_ps(_mm_loadu_si128(row + h * NV + c)), _mm256_loadu_ps(o + 8 * c)));
            }
        }
    }
}

#endif  // MOONDREAM_DECODE_ATTENTION

KernelReport cpu_choice(const char * disable_variable);

// Whether the AVX-512 span runs (else the AVX2 one): decided once.
bool avx512_chosen() {
    static const bool chosen = cpu_choice(nullptr).chosen;
    return chosen;
}

// src: q, keys, values, mask; the scale at kScaleOffset of op_params. Thread ith takes the ith
// contiguous share of the positions up to the last visible one, for every head, and writes its
// part; the merge op combines them.
void partials_op(ggml_tensor * dst, int ith, int nth, void *) {
#if MOONDREAM_DECODE_ATTENTION
    const ggml_tensor * q = dst->src[0];
    const ggml_tensor * k = dst->src[1];
    const ggml_tensor * v = dst->src[2];
    const ggml_tensor * mask = dst->src[3];
    float scale;
    std::memcpy(&scale, reinterpret_cast<const char *>(dst->op_params) + kScaleOffset, sizeof scale);
    const int64_t head_dim = q->ne[0];
    const int64_t n_head = q->ne[1];
    const auto * m = static_cast<const ggml_fp16_t *>(mask->data);
    // Past the last visible position the cache is padding (decode attends to whole 256-position
    // blocks): share out only what comes before it.
    int64_t n_kv = k->ne[1];
    while (n_kv > 0 && m[n_kv - 1] != 0 && ggml_fp16_to_fp32(m[n_kv - 1]) == -INFINITY) --n_kv;
    const int64_t parts = std::min<int64_t>(nth, kMaxParts);
    if (ith >= parts) return;
    float * part = static_cast<float *>(dst->data) + size_t(ith) * part_floats(head_dim, n_head);
    const int64_t per = (n_kv + parts - 1) / parts;
    const int64_t first = std::min<int64_t>(n_kv, ith * per);
    const int64_t count = std::min<int64_t>(n_kv, first + per) - first;
    thread_local std::vector<float> scores;
    scores.resize(size_t(n_head) * size_t(std::max<int64_t>(count, 1)));
    const auto * qh = static_cast<const float *>(q->data);
    const size_t q_head = q->nb[1] / sizeof(float);
    const auto * kh = static_cast<const uint8_t *>(k->data) + size_t(first) * k->nb[1];
    const auto * vh = static_cast<const uint8_t *>(v->data) + size_t(first) * v->nb[1];
    const bool avx512 = avx512_chosen();
    const auto run = [&](auto wide, auto narrow) {
        (avx512 ? wide : narrow)(qh, q_head, kh, k->nb[1], vh, v->nb[1], m + first, count, n_head, scale, scores.data(), part);
    };
    switch (head_dim) {
        case 64: run(span<64>, span_avx2<64>); break;
        case 128: run(span<128>, span_avx2<128>); break;
        case 32: run(span<32>, span_avx2<32>); break;
        default: run(span<16>, span_avx2<16>); break;
    }
#else
    (void)dst;
    (void)ith;
    (void)nth;
#endif
}

// src: the partials, q (for the shapes). Each thread merges a contiguous share of the heads:
// out = sum_t acc_t e^(max_t - M) / sum_t sum_t' e^(max_t - M), M the largest maximum; zeros
// where no position was visible, as ggml gives.
void merge_op(ggml_tensor * dst, int ith, int nth, void *) {
    const ggml_tensor * partials = dst->src[0];
    const ggml_tensor * q = dst->src[1];
    const int64_t head_dim = q->ne[0];
    const int64_t n_head = q->ne[1];
    const int64_t parts = std::min<int64_t>(nth, kMaxParts);
    const size_t stride = size_t(head_dim + 2);
    const auto * in = static_cast<const float *>(partials->data);
    auto * out = static_cast<float *>(dst->data);
    const int64_t per = (n_head + nth - 1) / nth;
    for (int64_t h = ith * per; h < std::min(n_head, (ith + 1) * per); ++h) {
        float * o = out + size_t(h * head_dim);
        float maximum = -INFINITY;
        for (int64_t t = 0; t < parts; ++t) maximum = std::max(maximum, in[size_t(t) * part_floats(head_dim, n_head) + size_t(h) * stride + size_t(head_dim)]);
        std::fill(o, o + head_dim, 0.0f);
        if (maximum == -INFINITY) continue;
        float total = 0.0f;
        for (int64_t t = 0; t < parts; ++t) {
            const float * p = in + size_t(t) * part_floats(head_dim, n_head) + size_t(h) * stride;
            if (p[head_dim] == -INFINITY) continue;
            const float weight = std::exp(p[head_dim] - maximum);
            total += p[head_dim + 1] * weight;
            for (int64_t d = 0; d < head_dim; ++d) o[d] += p[d] * weight;
        }
        const float inverse = 1.0f / total;
        for (int64_t d = 0; d < head_dim; ++d) o[d] *= inverse;
    }
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

// Where the AVX-512 kernel cannot run (the CPU, or MOONDREAM_CPU_LEVEL below avx512), its AVX2 span.
KernelReport avx2_choice(const char * disable_variable) {
    constexpr const char * kName = "decode_attention_avx2";
    if (cpu_choice(nullptr).chosen) return KernelReport{kName, false, "this CPU has AVX-512 F, so decode_attention runs instead"};
    return avx2::cpu_choice(kName, "each decode step's attention over the KV cache uses it", disable_variable);
}

}  // namespace

KernelReport decode_attention_cpu_choice() { return cpu_choice("MOONDREAM_DISABLE_DECODE_ATTENTION"); }
KernelReport decode_attention_avx2_cpu_choice() { return avx2_choice("MOONDREAM_DISABLE_DECODE_ATTENTION"); }

bool decode_attention_supported(int64_t head_dim) {
#if MOONDREAM_DECODE_ATTENTION
    static const bool cpu = cpu_choice(nullptr).chosen || avx2_choice(nullptr).chosen;
    return cpu && std::getenv("MOONDREAM_DISABLE_DECODE_ATTENTION") == nullptr && (head_dim == 16 || head_dim == 32 || head_dim == 64 || head_dim == 128);
#else
    (void)head_dim;
    return false;
#endif
}

ggml_tensor * decode_attention(ggml_context * ctx, ggml_tensor * q, ggml_tensor * keys, ggml_tensor * values, ggml_tensor * mask, float scale) {
    ggml_tensor * args[4] = {q, keys, values, mask};
    ggml_tensor * partials = ggml_custom_4d(ctx, GGML_TYPE_F32, int64_t(part_floats(q->ne[0], q->ne[1])) * kMaxParts, 1, 1, 1, args, 4,
                                            partials_op, GGML_N_TASKS_MAX, nullptr);
    ggml_set_name(partials, "decode_attention");  // what an op profile calls it
    std::memcpy(reinterpret_cast<char *>(partials->op_params) + kScaleOffset, &scale, sizeof scale);
    ggml_tensor * merge_args[2] = {partials, q};
    ggml_tensor * out = ggml_custom_4d(ctx, GGML_TYPE_F32, q->ne[0] * q->ne[1], 1, 1, 1, merge_args, 2, merge_op, GGML_N_TASKS_MAX, nullptr);
    ggml_set_name(out, "decode_attention_merge");
    return out;
}

}  // namespace moondream
