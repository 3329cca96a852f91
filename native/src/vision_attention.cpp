#include "vision_attention.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "attention_gemm.h"
#include "avx2_gemm.h"
#include "avx512_bf16_gemm.h"
#include "avx512_gemm.h"

#if defined(__x86_64__)
#define MOONDREAM_VISION_ATTENTION 1
#endif

namespace moondream {

namespace {

// Where the scale and the head count ride in op_params: ggml keeps the custom op's own parameters
// (function, task count, user data: 24 bytes) at the start of those 64 bytes.
constexpr size_t kScaleOffset = sizeof(ggml_tensor::op_params) - sizeof(float);
constexpr size_t kHeadsOffset = kScaleOffset - sizeof(int32_t);
constexpr size_t kBf16Offset = kHeadsOffset - sizeof(int32_t);
static_assert(kBf16Offset >= 3 * sizeof(void *), "op_params has no room for the attention's parameters");

struct Buffers {
    std::vector<float> q_packed, scores, values_packed, out_t;
    std::vector<float> values_t;             // bf16 products: V^T [d][keys], keys padded to even
    std::vector<uint32_t> q_pairs, v_pairs;  // bf16 products: the packed activations
};

// One head on bf16 dot products: the plan of the f32 path below, with k taken in pairs. The sum
// over keys needs an even length, so an odd count gets one more key of probability 0 and value 0.
void head_bf16(const float * qh, size_t q_stride, const float * kh, size_t k_stride, const float * vh, size_t v_stride, int64_t n,
               int64_t d, float scale, size_t ld, const AttentionGemm & g, Buffers & b) {
    const int64_t keys = n + (n & 1);
    const int64_t panels = avx512_bf16::weight_panels(n);
    b.q_pairs.resize(avx512_bf16::packed_pairs(n, d));
    avx512_bf16::pack_rows(qh, q_stride, n, d, scale, b.q_pairs.data(), 0, 1);
    avx512_bf16::multiply(b.q_pairs.data(), n, {kh, WeightFormat::f32, k_stride, n, d}, nullptr, b.scores.data(), ld, 0, panels, false);
    g.softmax_rows(b.scores.data(), n, ld, n, nullptr);
    if (keys != n) {
        for (int64_t i = 0; i < n; ++i) b.scores[size_t(i) * ld + size_t(n)] = 0.0f;
    }
    b.values_t.resize(size_t(d) * size_t(keys));
    g.transpose(vh, v_stride, n, d, b.values_t.data(), size_t(keys));
    if (keys != n) {
        for (int64_t j = 0; j < d; ++j) b.values_t[size_t(j) * size_t(keys) + size_t(n)] = 0.0f;
    }
    b.v_pairs.resize(avx512_bf16::packed_pairs(d, keys));
    avx512_bf16::pack_rows(b.values_t.data(), size_t(keys), d, keys, 1.0f, b.v_pairs.data(), 0, 1);
    avx512_bf16::multiply(b.v_pairs.data(), d, {b.scores.data(), WeightFormat::f32, ld, n, keys}, nullptr, b.out_t.data(), ld, 0, panels, false);
}

// src: q, k, v. Heads h with h % nth == ith.
void attention_op(ggml_tensor * dst, int ith, int nth, void *) {
#if MOONDREAM_VISION_ATTENTION
    const ggml_tensor * q = dst->src[0];
    const ggml_tensor * k = dst->src[1];
    const ggml_tensor * v = dst->src[2];
    float scale;
    int32_t n_head;
    std::memcpy(&scale, reinterpret_cast<const char *>(dst->op_params) + kScaleOffset, sizeof scale);
    std::memcpy(&n_head, reinterpret_cast<const char *>(dst->op_params) + kHeadsOffset, sizeof n_head);
    int32_t bf16_products;
    std::memcpy(&bf16_products, reinterpret_cast<const char *>(dst->op_params) + kBf16Offset, sizeof bf16_products);
    const int64_t e = q->ne[0];
    const int64_t n = q->ne[1];
    const int64_t d = e / n_head;
    const AttentionGemm & g = attention_gemm();
    // Scores rows padded to whole weight panels, so the products' full-width stores stay inside.
    const size_t ld = g.padded(n);
    thread_local Buffers b;
    b.q_packed.resize(g.packed_floats(n, d));
    b.scores.resize(size_t(n) * ld);
    b.values_packed.resize(g.packed_floats(d, n));
    b.out_t.resize(size_t(d) * ld);
    const size_t q_stride = q->nb[1] / sizeof(float), k_stride = k->nb[1] / sizeof(float), v_stride = v->nb[1] / sizeof(float);
    for (int64_t h = ith; h < n_head; h += nth) {
        const float * qh = static_cast<const float *>(q->data) + size_t(h * d);
        const float * kh = static_cast<const float *>(k->data) + size_t(h * d);
        const float * vh = static_cast<const float *>(v->data) + size_t(h * d);
        if (bf16_products != 0) {
            head_bf16(qh, q_stride, kh, k_stride, vh, v_stride, n, d, scale, ld, g, b);
            g.transpose(b.out_t.data(), ld, d, n, static_cast<float *>(dst->data) + size_t(h * d), size_t(e));
            continue;
        }
        // S = scale Q K^T: the queries packed (scaled), the keys as the "weight" rows.
        g.pack_rows(qh, q_stride, n, d, scale, b.q_packed.data(), 0, 1);
        g.multiply(b.q_packed.data(), n, {kh, WeightFormat::f32, k_stride, n, d}, b.scores.data(), ld, 0);
        g.softmax_rows(b.scores.data(), n, ld, n, nullptr);
        // O^T = V^T P^T: rows of V^T are the d value columns (packed a panel's rows at a time along
        // the positions), and the probabilities' rows (one per query) are the "weight" rows.
        pack_values(g, vh, false, v_stride, n, d, b.values_packed.data());
        g.multiply(b.values_packed.data(), d, {b.scores.data(), WeightFormat::f32, ld, n, n}, b.out_t.data(), ld, 0);
        // O^T [d][n] -> the head's columns of dst [e, n].
        g.transpose(b.out_t.data(), ld, d, n, static_cast<float *>(dst->data) + size_t(h * d), size_t(e));
    }
#else
    (void)dst;
    (void)ith;
    (void)nth;
#endif
}

}  // namespace

KernelReport vision_attention_cpu_choice() {
    return avx512::cpu_choice("vision_attention", "the vision tower's self-attention uses it", "MOONDREAM_DISABLE_VISION_ATTENTION");
}

KernelReport vision_attention_avx2_cpu_choice() {
    constexpr const char * kName = "vision_attention_avx2";
    if (avx512::available()) return KernelReport{kName, false, "this CPU has AVX-512 F, BW and VL, so vision_attention runs instead"};
    return avx2::cpu_choice(kName, "the vision tower's self-attention uses it", "MOONDREAM_DISABLE_VISION_ATTENTION");
}

bool vision_attention_supported() { return attention_gemm_available() && std::getenv("MOONDREAM_DISABLE_VISION_ATTENTION") == nullptr; }

ggml_tensor * vision_attention(ggml_context * ctx, ggml_tensor * q, ggml_tensor * k, ggml_tensor * v, int n_head, float scale,
                               bool bf16_products) {
    ggml_tensor * args[3] = {q, k, v};
    ggml_tensor * out = ggml_custom_4d(ctx, GGML_TYPE_F32, q->ne[0], q->ne[1], 1, 1, args, 3, attention_op, GGML_N_TASKS_MAX, nullptr);
    ggml_set_name(out, "vision_attention");  // what an op profile calls it
    const int32_t heads = n_head;
    std::memcpy(reinterpret_cast<char *>(out->op_params) + kScaleOffset, &scale, sizeof scale);
    std::memcpy(reinterpret_cast<char *>(out->op_params) + kHeadsOffset, &heads, sizeof heads);
    // The bf16 product sums over pairs: the queries' head_dim must be even (72 in moondream1; a
    // file with an odd one keeps the f32 products).
    const bool even_heads = n_head > 0 && (q->ne[0] / n_head) % 2 == 0;
    const int32_t bf16 = bf16_products && even_heads && avx512_bf16::available() ? 1 : 0;
    std::memcpy(reinterpret_cast<char *>(out->op_params) + kBf16Offset, &bf16, sizeof bf16);
    return out;
}

}  // namespace moondream
