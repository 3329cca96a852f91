#include "prefill_attention.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "attention_gemm.h"
#include "avx2_gemm.h"
#include "avx512_gemm.h"
#include "avx512_softmax.h"

#if defined(__x86_64__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#define MOONDREAM_PREFILL_ATTENTION 1
#define MD_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl")))
#endif

namespace moondream {

namespace {

// Where the scale rides in op_params: ggml keeps the custom op's own parameters (function, task
// count, user data: 24 bytes) at the start of those 64 bytes.
constexpr size_t kScaleOffset = sizeof(ggml_tensor::op_params) - sizeof(float);
static_assert(kScaleOffset >= 3 * sizeof(void *), "op_params has no room for the attention's scale");

// Queries per block: each block computes scores only for the keys its last query sees, so the
// causal triangle costs about (1 + block / t) of its own work instead of a full square.
constexpr int64_t kQueryBlock = 96;

struct Buffers {
    std::vector<float> q_packed, scores, values_packed, out_t;
    std::vector<float> key_panels, probabilities_packed;  // AVX-512 only
    std::vector<int64_t> visible, row_panel_keys;
};

#if MOONDREAM_PREFILL_ATTENTION

// The keys a query at `position` sees: up to its own.
inline int64_t keys_seen(int32_t position, int64_t n_kv) { return std::clamp<int64_t>(int64_t(position) + 1, 1, n_kv); }

// The most keys any of the t queries sees: the values a head's blocks use.
int64_t batch_keys(const int32_t * positions, int64_t t, int64_t n_kv) {
    int64_t n = 0;
    for (int64_t i = 0; i < t; ++i) n = std::max(n, keys_seen(positions[i], n_kv));
    return n;
}

// visible[i] = the keys query i0 + i sees, for i < m; returns the most (the block's last query's).
int64_t block_keys(const int32_t * positions, int64_t i0, int64_t m, int64_t n_kv, int64_t * visible) {
    int64_t n = 0;
    for (int64_t i = 0; i < m; ++i) n = std::max(n, visible[i] = keys_seen(positions[i0 + i], n_kv));
    return n;
}

// `p` rounded up to a 64-byte boundary (buffers are sized 16 floats over).
inline float * aligned64(float * p) { return reinterpret_cast<float *>((reinterpret_cast<uintptr_t>(p) + 63) & ~uintptr_t(63)); }

// Values rows [0, n) (`stride` elements apart, f16 or f32) -> panels [p][n][32] of the value
// columns p*32 .. p*32+31 (columns past d zero): V as the weights of O = P V.
MD_TARGET_AVX512 void value_panels_avx512(const void * v, bool half, size_t stride, int64_t n, int64_t d, float * out) {
    for (int64_t p = 0; p < avx512::weight_panels(d); ++p) {
        float * panel = out + size_t(p) * size_t(n) * avx512::kPanelWidth;
        for (int64_t j = 0; j < n; ++j) {
            for (int g = 0; g < avx512::kPanelWidth; g += 16) {
                const int64_t col = p * avx512::kPanelWidth + g;
                const int64_t width = std::clamp<int64_t>(d - col, 0, 16);
                const __mmask16 mask = __mmask16((1u << width) - 1);
                const size_t at = size_t(j) * stride + size_t(col);
                const __m512 row = half ? _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask, static_cast<const ggml_fp16_t *>(v) + at))
                                        : _mm512_maskz_loadu_ps(mask, static_cast<const float *>(v) + at);
                _mm512_store_ps(panel + size_t(j) * avx512::kPanelWidth + g, row);
            }
        }
    }
}

// One head on AVX-512: per block of queries S = Q K^T over the keys converted once for the head,
// softmax, then O = P V straight into dst. Against the shared plan below (V^T P^T, whose O^T is
// transposed out): no keys converted again per block, no transpose of O, no value columns padded to
// 72, and each 12 queries take only the keys up to their own last (kernel_bench prefill_attention).
void attention_head_avx512(const float * qh, size_t q_stride, const char * kh, const char * vh, bool half, size_t k_stride, size_t v_stride,
                           const int32_t * positions, int64_t t, int64_t d, int64_t n_kv, float scale, float * out, size_t ld_out,
                           Buffers & b) {
    const WeightFormat format = half ? WeightFormat::f16 : WeightFormat::f32;
    const int64_t n_all = batch_keys(positions, t, n_kv);
    b.key_panels.resize(size_t(avx512::weight_panels(n_all)) * size_t(d) * avx512::kPanelWidth + 16);
    float * key_panels = aligned64(b.key_panels.data());
    avx512::convert_panels({kh, format, k_stride, n_all, d}, key_panels);
    b.values_packed.resize(size_t(avx512::weight_panels(d)) * size_t(n_all) * avx512::kPanelWidth + 16);
    float * value_panels = aligned64(b.values_packed.data());
    value_panels_avx512(vh, half, v_stride, n_all, d, value_panels);
    const size_t ld = size_t(avx512::weight_panels(n_kv) * avx512::kPanelWidth);
    for (int64_t i0 = 0; i0 < t; i0 += kQueryBlock) {
        const int64_t m = std::min(kQueryBlock, t - i0);
        const int64_t n = block_keys(positions, i0, m, n_kv, b.visible.data());
        for (int64_t r = 0; r < avx512::row_panels(m); ++r) {
            const int64_t * first = b.visible.data() + r * avx512::kRowsPerPanel;
            b.row_panel_keys[size_t(r)] = *std::max_element(first, first + std::min<int64_t>(avx512::kRowsPerPanel, m - r * avx512::kRowsPerPanel));
        }
        avx512::pack_rows(qh + size_t(i0) * q_stride, q_stride, m, d, scale, b.q_packed.data(), 0, 1);
        avx512::multiply_converted(b.q_packed.data(), m, d, key_panels, size_t(d), n, d, b.scores.data(), ld, b.row_panel_keys.data(), nullptr);
        // Scores a row panel did not compute lie past its rows' keys, which the softmax zeroes.
        avx512::softmax_rows(b.scores.data(), m, ld, n, b.visible.data());
        avx512::pack_rows(b.scores.data(), ld, m, n, 1.0f, b.probabilities_packed.data(), 0, 1);
        avx512::multiply_converted(b.probabilities_packed.data(), m, n, value_panels, size_t(n_all), d, n, out + size_t(i0) * ld_out, ld_out,
                                   nullptr, b.row_panel_keys.data());
    }
}

#endif  // MOONDREAM_PREFILL_ATTENTION

// src: q, keys, values, positions. Heads h with h % nth == ith.
void attention_op(ggml_tensor * dst, int ith, int nth, void *) {
#if MOONDREAM_PREFILL_ATTENTION
    const ggml_tensor * q = dst->src[0];
    const ggml_tensor * k = dst->src[1];
    const ggml_tensor * v = dst->src[2];
    const auto * positions = static_cast<const int32_t *>(dst->src[3]->data);
    float scale;
    std::memcpy(&scale, reinterpret_cast<const char *>(dst->op_params) + kScaleOffset, sizeof scale);
    const int64_t d = q->ne[0];
    const int64_t n_head = q->ne[1];
    const int64_t t = q->ne[2];
    const int64_t e = d * n_head;
    const int64_t n_kv = k->ne[1];
    const bool half = k->type == GGML_TYPE_F16;
    const size_t element = half ? sizeof(ggml_fp16_t) : sizeof(float);
    const size_t k_stride = k->nb[1] / element, v_stride = v->nb[1] / element;
    const size_t q_stride = q->nb[2] / sizeof(float);
    const AttentionGemm & g = attention_gemm();
    const bool avx512 = avx512::available();
    // Scores rows padded to whole weight panels, so the products' full-width stores stay inside.
    const size_t ld = g.padded(n_kv);
    const size_t ld_out = g.padded(kQueryBlock);
    thread_local Buffers b;
    b.q_packed.resize(g.packed_floats(kQueryBlock, d));
    b.scores.resize(size_t(kQueryBlock) * ld);
    b.values_packed.resize(g.packed_floats(d, n_kv));
    b.out_t.resize(size_t(d) * ld_out);
    b.visible.resize(size_t(kQueryBlock));
    b.row_panel_keys.resize(size_t(avx512::row_panels(kQueryBlock)));
    if (avx512) b.probabilities_packed.resize(avx512::packed_floats(kQueryBlock, n_kv));
    for (int64_t h = ith; h < n_head; h += nth) {
        const float * qh = static_cast<const float *>(q->data) + size_t(h * d);
        const char * kh = static_cast<const char *>(k->data) + size_t(h) * k->nb[2];
        const char * vh = static_cast<const char *>(v->data) + size_t(h) * v->nb[2];
        if (avx512) {
            attention_head_avx512(qh, q_stride, kh, vh, half, k_stride, v_stride, positions, t, d, n_kv, scale,
                                  static_cast<float *>(dst->data) + size_t(h * d), size_t(e), b);
            continue;
        }
        // The head's values, once, for every key the batch sees (blocks use their first n).
        const int64_t n_all = batch_keys(positions, t, n_kv);
        pack_values(g, vh, half, v_stride, n_all, d, b.values_packed.data());
        for (int64_t i0 = 0; i0 < t; i0 += kQueryBlock) {
            const int64_t m = std::min(kQueryBlock, t - i0);
            const int64_t n = block_keys(positions, i0, m, n_kv, b.visible.data());
            g.pack_rows(qh + size_t(i0) * q_stride, q_stride, m, d, scale, b.q_packed.data(), 0, 1);
            g.multiply(b.q_packed.data(), m, {kh, half ? WeightFormat::f16 : WeightFormat::f32, k_stride, n, d}, b.scores.data(), ld, 0);
            g.softmax_rows(b.scores.data(), m, ld, n, b.visible.data());
            g.multiply(b.values_packed.data(), d, {b.scores.data(), WeightFormat::f32, ld, m, n}, b.out_t.data(), ld_out, n_all);
            // O^T [d][m] -> the head's columns of dst [e, t].
            g.transpose(b.out_t.data(), ld_out, d, m, static_cast<float *>(dst->data) + size_t(i0) * size_t(e) + size_t(h * d), size_t(e));
        }
    }
#else
    (void)dst;
    (void)ith;
    (void)nth;
#endif
}

}  // namespace

KernelReport prefill_attention_cpu_choice() {
    return avx512::cpu_choice("prefill_attention", "a prompt's attention over the KV cache uses it", "MOONDREAM_DISABLE_PREFILL_ATTENTION");
}

KernelReport prefill_attention_avx2_cpu_choice() {
    constexpr const char * kName = "prefill_attention_avx2";
    if (avx512::available()) return KernelReport{kName, false, "this CPU has AVX-512 F, BW and VL, so prefill_attention runs instead"};
    return avx2::cpu_choice(kName, "a prompt's attention over the KV cache uses it", "MOONDREAM_DISABLE_PREFILL_ATTENTION");
}

bool prefill_attention_supported() { return attention_gemm_available() && std::getenv("MOONDREAM_DISABLE_PREFILL_ATTENTION") == nullptr; }

ggml_tensor * prefill_attention(ggml_context * ctx, ggml_tensor * q, ggml_tensor * keys, ggml_tensor * values, ggml_tensor * positions,
                                float scale) {
    ggml_tensor * args[4] = {q, keys, values, positions};
    ggml_tensor * out = ggml_custom_4d(ctx, GGML_TYPE_F32, q->ne[0] * q->ne[1], q->ne[2], 1, 1, args, 4, attention_op, GGML_N_TASKS_MAX, nullptr);
    ggml_set_name(out, "prefill_attention");  // what an op profile calls it
    std::memcpy(reinterpret_cast<char *>(out->op_params) + kScaleOffset, &scale, sizeof scale);
    return out;
}

}  // namespace moondream
