#include "q8_0_gemm.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__)
// GCC 12's AVX-512 headers trip -Wmaybe-uninitialized on their own _mm512_undefined_* locals.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#define MOONDREAM_Q8_GEMM 1
#endif

namespace moondream {

namespace {

constexpr int kRows = 16;          // output rows per tile: one 512-bit register of int32 sums
constexpr int kBlock = 32;         // q8_0 block
constexpr int kGroups = kBlock / 4;  // VPDPBUSD takes 4 k per lane
constexpr size_t kBlockWeightBytes = size_t(kRows) * kBlock;  // 512: 8 registers
constexpr size_t kBlockScaleBytes = size_t(kRows) * 2;        // 16 f16 scales
constexpr size_t kQ8BlockBytes = 2 + kBlock;                   // ggml's block_q8_0: f16 d, 32 x int8
constexpr int kMaxColumns = 8;     // activation rows per register tile

// One activation row: k int8 values, then per block its f32 scale and -128 x (sum of its values).
// The weights are stored as u8 = q + 128 (VPDPBUSD multiplies u8 by s8), and the second term
// takes the 128 back out.
size_t activation_stride(int64_t k) {
    const size_t nb = size_t(k) / kBlock;
    return (size_t(k) + nb * 8 + 63) / 64 * 64;
}

#if MOONDREAM_Q8_GEMM

__attribute__((target("avx512f,avx512bw"))) void quantize_row(const float * x, uint8_t * out, int64_t k) {
    const int64_t nb = k / kBlock;
    auto * values = reinterpret_cast<int8_t *>(out);
    float * scales = reinterpret_cast<float *>(out + k);
    int32_t * corrections = reinterpret_cast<int32_t *>(out + k + 4 * nb);
    for (int64_t b = 0; b < nb; ++b) {
        const __m512 v0 = _mm512_loadu_ps(x + b * kBlock);
        const __m512 v1 = _mm512_loadu_ps(x + b * kBlock + 16);
        const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
        // As ggml's quantize_row_q8_0: the f16-rounded d is what the dot product scales by,
        // while the values are rounded (to nearest even) with 127/amax.
        const float d = ggml_fp16_to_fp32(ggml_fp32_to_fp16(amax / 127.0f));
        const __m512 inverse = _mm512_set1_ps(amax != 0.0f ? 127.0f / amax : 0.0f);
        const __m512i q0 = _mm512_cvtps_epi32(_mm512_roundscale_ps(_mm512_mul_ps(v0, inverse), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        const __m512i q1 = _mm512_cvtps_epi32(_mm512_roundscale_ps(_mm512_mul_ps(v1, inverse), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        _mm_storeu_si128(reinterpret_cast<__m128i *>(values + b * kBlock), _mm512_cvtepi32_epi8(q0));
        _mm_storeu_si128(reinterpret_cast<__m128i *>(values + b * kBlock + 16), _mm512_cvtepi32_epi8(q1));
        scales[b] = d;
        corrections[b] = -128 * _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
    }
}

// out[j * n + row0 .. +16] = sum over blocks of d_w * d_a * (integer dot), for MT activation rows.
template <int MT>
__attribute__((target("avx512f,avx512bw,avx512vnni"))) void tile_kernel(const uint8_t * tile, int64_t nb, const uint8_t * act, size_t stride,
                                                                      int64_t k, float * out, int64_t n) {
    const uint8_t * scales = tile;
    const uint8_t * weights = tile + size_t(nb) * kBlockScaleBytes;
    __m512 acc[MT];
    for (int j = 0; j < MT; ++j) acc[j] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
        const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(scales + size_t(b) * kBlockScaleBytes)));
        const uint8_t * wb = weights + size_t(b) * kBlockWeightBytes;
        __m512i w[kGroups];
        for (int g = 0; g < kGroups; ++g) w[g] = _mm512_loadu_si512(wb + g * 64);
        for (int j = 0; j < MT; ++j) {
            const uint8_t * row = act + size_t(j) * stride;
            const uint8_t * qa = row + b * kBlock;
            float d_a;
            int32_t correction;
            std::memcpy(&d_a, row + k + 4 * b, sizeof d_a);
            std::memcpy(&correction, row + k + 4 * nb + 4 * b, sizeof correction);
            __m512i sum = _mm512_set1_epi32(correction);
            for (int g = 0; g < kGroups; ++g) {
                int32_t four;
                std::memcpy(&four, qa + 4 * g, sizeof four);
                sum = _mm512_dpbusd_epi32(sum, w[g], _mm512_set1_epi32(four));
            }
            acc[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), _mm512_mul_ps(dw, _mm512_set1_ps(d_a)), acc[j]);
        }
    }
    for (int j = 0; j < MT; ++j) _mm512_storeu_ps(out + size_t(j) * size_t(n), acc[j]);
}

using TileKernel = void (*)(const uint8_t *, int64_t, const uint8_t *, size_t, int64_t, float *, int64_t);
constexpr TileKernel kKernels[kMaxColumns + 1] = {nullptr,        tile_kernel<1>, tile_kernel<2>, tile_kernel<3>, tile_kernel<4>,
                                                  tile_kernel<5>, tile_kernel<6>, tile_kernel<7>, tile_kernel<8>};

void quantize_op(ggml_tensor * dst, int ith, int nth, void *) {
    const ggml_tensor * x = dst->src[0];
    const int64_t k = x->ne[0];
    const size_t stride = activation_stride(k);
    for (int64_t row = ith; row < x->ne[1]; row += nth) {
        quantize_row(reinterpret_cast<const float *>(static_cast<const char *>(x->data) + size_t(row) * x->nb[1]),
                     static_cast<uint8_t *>(dst->data) + size_t(row) * stride, k);
    }
}

void multiply_op(ggml_tensor * dst, int ith, int nth, void * userdata) {
    static_cast<const PackedQ8 *>(userdata)->multiply(static_cast<const uint8_t *>(dst->src[0]->data), static_cast<float *>(dst->data),
                                                      dst->ne[1], ith, nth);
}

#endif  // MOONDREAM_Q8_GEMM

}  // namespace

bool q8_0_gemm_supported() {
#if MOONDREAM_Q8_GEMM
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni") &&
           std::getenv("MOONDREAM_DISABLE_Q8_GEMM") == nullptr;
#else
    return false;
#endif
}

std::unique_ptr<PackedQ8> PackedQ8::pack(const ggml_tensor * weight) {
    if (weight->type != GGML_TYPE_Q8_0 || !q8_0_gemm_supported()) return nullptr;
    if (weight->ne[0] % kBlock != 0 || weight->ne[1] % kRows != 0 || weight->ne[2] != 1 || weight->ne[3] != 1) return nullptr;
    std::unique_ptr<PackedQ8> packed(new PackedQ8());
    packed->k_ = weight->ne[0];
    packed->n_ = weight->ne[1];
    const int64_t nb = packed->k_ / kBlock;
    packed->tile_bytes_ = size_t(nb) * (kBlockScaleBytes + kBlockWeightBytes);
    const int64_t tiles = packed->n_ / kRows;
    packed->storage_.resize(size_t(tiles) * packed->tile_bytes_ + 63);
    packed->data_ = packed->storage_.data() + (64 - reinterpret_cast<uintptr_t>(packed->storage_.data()) % 64) % 64;
    const auto * source = static_cast<const uint8_t *>(weight->data);
    for (int64_t t = 0; t < tiles; ++t) {
        uint8_t * scales = packed->data_ + size_t(t) * packed->tile_bytes_;
        uint8_t * weights = scales + size_t(nb) * kBlockScaleBytes;
        for (int i = 0; i < kRows; ++i) {
            const uint8_t * row = source + size_t(t * kRows + i) * weight->nb[1];
            for (int64_t b = 0; b < nb; ++b) {
                const uint8_t * block = row + size_t(b) * kQ8BlockBytes;
                std::memcpy(scales + size_t(b) * kBlockScaleBytes + size_t(i) * 2, block, 2);
                const auto * q = block + 2;
                uint8_t * w = weights + size_t(b) * kBlockWeightBytes;
                for (int g = 0; g < kGroups; ++g) {
                    for (int c = 0; c < 4; ++c) w[g * 64 + i * 4 + c] = uint8_t(q[g * 4 + c] ^ 0x80);  // q + 128 as u8
                }
            }
        }
    }
    return packed;
}

ggml_tensor * PackedQ8::mul_mat(ggml_context * ctx, ggml_tensor * x) const {
#if MOONDREAM_Q8_GEMM
    const int64_t m = x->ne[1];
    ggml_tensor * args[1] = {x};
    ggml_tensor * quantized = ggml_custom_4d(ctx, GGML_TYPE_I8, int64_t(activation_stride(k_)) * m, 1, 1, 1, args, 1, quantize_op,
                                             GGML_N_TASKS_MAX, nullptr);
    args[0] = quantized;
    return ggml_custom_4d(ctx, GGML_TYPE_F32, n_, m, 1, 1, args, 1, multiply_op, GGML_N_TASKS_MAX, const_cast<PackedQ8 *>(this));
#else
    (void)ctx;
    (void)x;
    return nullptr;  // pack() never returns a PackedQ8 here
#endif
}

void PackedQ8::multiply(const uint8_t * activations, float * out, int64_t m, int ith, int nth) const {
#if MOONDREAM_Q8_GEMM
    const int64_t tiles = n_ / kRows;
    const int64_t per_thread = (tiles + nth - 1) / nth;
    const int64_t first = std::min(tiles, per_thread * ith);
    const int64_t last = std::min(tiles, first + per_thread);
    const size_t stride = activation_stride(k_);
    const int64_t nb = k_ / kBlock;
    for (int64_t t = first; t < last; ++t) {
        for (int64_t j = 0; j < m; j += kMaxColumns) {
            const int columns = int(std::min<int64_t>(kMaxColumns, m - j));
            kKernels[columns](tile(t), nb, activations + size_t(j) * stride, stride, k_, out + size_t(j) * size_t(n_) + size_t(t * kRows), n_);
        }
    }
#else
    (void)activations;
    (void)out;
    (void)m;
    (void)ith;
    (void)nth;
#endif
}

}  // namespace moondream
