#include "vnni_matrix.h"

#include "amx_matrix.h"
#include "avx2_int8.h"
#include "cpu_level.h"
#include "gelu_lookup.h"
#include "int8_tiles.h"

#include <algorithm>
#include <cstring>
#include <new>

#if defined(__x86_64__)
// GCC 12's AVX-512 headers trip -Wmaybe-uninitialized on their own _mm512_undefined_* locals.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#define MOONDREAM_VNNI_MATRIX 1
#endif

namespace moondream {

using namespace int8_tiles;

namespace {

constexpr int kMaxColumns = 8;       // activation rows per register tile
constexpr int64_t kAmxMinRows = 16;    // below one AMX tile of rows, the VNNI kernels multiply

// The VNNI kernels multiply unsigned weights (q8_0 stored as q + 128), the AVX2 ones signed.
Format format_of(ggml_type type, bool avx2) { return type == GGML_TYPE_Q4_0 ? kQ4 : avx2 ? kQ8Signed : kQ8Unsigned; }

#if MOONDREAM_VNNI_MATRIX

__attribute__((target("avx512f,avx512bw"))) void quantize_row(const float * x, const RowPlacement & at, int64_t k, int32_t offset) {
    const int64_t nb = k / kBlock;
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
        int8_t * values = at.values + size_t(b) * at.value_step;
        _mm_storeu_si128(reinterpret_cast<__m128i *>(values), _mm512_cvtepi32_epi8(q0));
        _mm_storeu_si128(reinterpret_cast<__m128i *>(values + 16), _mm512_cvtepi32_epi8(q1));
        at.scales[size_t(b) * at.scale_step] = d;
        if (at.starts != nullptr) at.starts[b] = -offset * _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
    }
}

// The AMX kernel's tile order (amx_matrix.h): row j's block b in group j / 16, at row j % 16.
RowPlacement tile_placement(uint8_t * out, int64_t k, int64_t row) {
    const size_t nb = size_t(k) / kBlock;
    uint8_t * group = out + size_t(row / amx::kGroupRows) * nb * amx::kGroupBlockBytes;
    const size_t r = size_t(row % amx::kGroupRows);
    return {reinterpret_cast<int8_t *>(group + r * kBlock), amx::kGroupBlockBytes,
            reinterpret_cast<float *>(group + amx::kGroupValueBytes) + r, amx::kGroupBlockBytes / sizeof(float), nullptr};
}

// Loads block b's 16 x 32 weights of a tile as 8 registers: w[g] holds the 16 rows' 4 k of
// group g as unsigned bytes.
template <ggml_type T>
__attribute__((target("avx512f,avx512bw"), always_inline)) inline void load_block(const uint8_t * wb, __m512i * w) {
    if constexpr (T == GGML_TYPE_Q4_0) {
        const __m512i low_nibbles = _mm512_set1_epi8(0x0F);
        for (int p = 0; p < kGroups / 2; ++p) {
            const __m512i packed = _mm512_loadu_si512(wb + p * 64);
            w[p] = _mm512_and_si512(packed, low_nibbles);
            w[p + kGroups / 2] = _mm512_and_si512(_mm512_srli_epi16(packed, 4), low_nibbles);
        }
    } else {
        for (int g = 0; g < kGroups; ++g) w[g] = _mm512_loadu_si512(wb + g * 64);
    }
}

// What a kernel stores: the biased sum, or its GELU through the table when the product is fused
// with one (gelu_lookup.h; the same values as the GELU op, bit for bit).
__attribute__((target("avx512f"), always_inline)) inline __m512 finish(__m512 sum, const float * gelu) {
    return gelu != nullptr ? avx512::gelu_lookup(sum, gelu) : sum;
}

// finish()'s GELU over outputs already stored (count a multiple of 16): the same values.
__attribute__((target("avx512f"))) void gelu_in_place(float * out, int64_t count, const float * gelu) {
    for (int64_t i = 0; i < count; i += 16) _mm512_storeu_ps(out + i, avx512::gelu_lookup(_mm512_loadu_ps(out + i), gelu));
}

// A block's exact integer dot of a tile's 16 rows (w, load_block's) with an activation row's 32
// values at `qa`, from `start` (the block's offset correction): the group's VPDPBUSDs spread over
// NS independent partial sums to hide the instruction's latency, added in order at the end.
template <int NS>
__attribute__((target("avx512f,avx512bw,avx512vnni"), always_inline)) inline __m512i block_dot(const __m512i * w, const uint8_t * qa, int32_t start) {
    __m512i sums[NS];
    sums[0] = _mm512_set1_epi32(start);
    for (int c = 1; c < NS; ++c) sums[c] = _mm512_setzero_si512();
    for (int g = 0; g < kGroups; ++g) {
        int32_t four;
        std::memcpy(&four, qa + 4 * g, sizeof four);
        sums[g % NS] = _mm512_dpbusd_epi32(sums[g % NS], w[g], _mm512_set1_epi32(four));
    }
    for (int c = 1; c < NS; ++c) sums[0] = _mm512_add_epi32(sums[0], sums[c]);
    return sums[0];
}

// Decode (one or two activation rows): out[j * n .. + 16] = sum over blocks of d_w * d_a *
// (integer dot). The weights stream from memory once, so this prefetches and splits each row's
// VPDPBUSD chain into partial sums to hide the instruction's latency.
template <ggml_type T, int MT>
__attribute__((target("avx512f,avx512bw,avx512vnni"))) void row_kernel(const uint8_t * tile, int64_t nb, const uint8_t * act, size_t stride,
                                                                     int64_t k, const float * bias, const float * gelu, float * out, int64_t n) {
    constexpr Format f = T == GGML_TYPE_Q4_0 ? kQ4 : kQ8Unsigned;
    constexpr int NS = MT == 1 ? 4 : 2;  // independent partial sums per activation row
    const uint8_t * scales = tile;
    const uint8_t * weights = tile + size_t(nb) * kBlockScaleBytes;
    __m512 acc[MT];
    for (int j = 0; j < MT; ++j) acc[j] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
        const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(scales + size_t(b) * kBlockScaleBytes)));
        const uint8_t * wb = weights + size_t(b) * f.packed_block;
        prefetch_ahead(wb, f.packed_block);
        __m512i w[kGroups];
        load_block<T>(wb, w);
        for (int j = 0; j < MT; ++j) {
            const uint8_t * row = act + size_t(j) * stride;
            const uint8_t * qa = row + b * kBlock;
            float d_a;
            int32_t start;
            std::memcpy(&d_a, row + k + 4 * b, sizeof d_a);
            std::memcpy(&start, row + k + 4 * nb + 4 * b, sizeof start);
            acc[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(block_dot<NS>(w, qa, start)), _mm512_mul_ps(dw, _mm512_set1_ps(d_a)), acc[j]);
        }
    }
    const __m512 b = bias != nullptr ? _mm512_loadu_ps(bias) : _mm512_setzero_ps();
    for (int j = 0; j < MT; ++j) _mm512_storeu_ps(out + size_t(j) * size_t(n), finish(_mm512_add_ps(acc[j], b), gelu));
}

// Decode of q8_0 (one activation row), row_kernel<GGML_TYPE_Q8_0, 1>'s arithmetic tile by tile (its
// results bit for bit) on NT consecutive tiles at once, for NT streams of weights in flight, as
// q4_0's decode row does (avx2_int8.cpp says why), with prefetch_tile's prefetches.
template <int NT>
__attribute__((target("avx512f,avx512bw,avx512vnni"))) void q8_rows_kernel(const uint8_t * tiles, size_t tile_stride, int64_t nb, const uint8_t * act,
                                                                          int64_t k, const float * bias, const float * gelu, float * out) {
    constexpr Format f = kQ8Unsigned;
    constexpr int64_t kFarBlocks = 16;
    constexpr int NS = 4;  // independent partial sums, as row_kernel's for one row
    const size_t scale_bytes = size_t(nb) * kBlockScaleBytes;
    __m512 acc[NT];
    for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
        const uint8_t * qa = act + size_t(b) * kBlock;
        float d_a;
        int32_t start;
        std::memcpy(&d_a, act + k + 4 * b, sizeof d_a);
        std::memcpy(&start, act + k + 4 * nb + 4 * b, sizeof start);
        for (int t = 0; t < NT; ++t) {
            prefetch_tile<NT>(tiles, tile_stride, nb, b, t, f.packed_block, kFarBlocks);
            const uint8_t * tile = tiles + size_t(t) * tile_stride;
            const uint8_t * wb = tile + scale_bytes + size_t(b) * f.packed_block;
            const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(tile + size_t(b) * kBlockScaleBytes)));
            __m512i w[kGroups];
            load_block<GGML_TYPE_Q8_0>(wb, w);
            acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(block_dot<NS>(w, qa, start)), _mm512_mul_ps(dw, _mm512_set1_ps(d_a)), acc[t]);
        }
    }
    for (int t = 0; t < NT; ++t) {
        const __m512 b = bias != nullptr ? _mm512_loadu_ps(bias + t * kRows) : _mm512_setzero_ps();
        _mm512_storeu_ps(out + t * kRows, finish(_mm512_add_ps(acc[t], b), gelu));
    }
}

// Prefill (three to eight activation rows), the same arithmetic. Here the loop over rows is the
// inner one, so each group's VPDPBUSDs for the MT rows are independent and issue back to back;
// with the rows outermost (as decode has them) every row waited out a chain of eight dependent
// VPDPBUSDs, 5 cycles each, and the kernel ran at a fifth of the core's int8 peak.
// Register budget: 8 weights + MT sums + MT accumulators + the scales, within 32.
template <ggml_type T, int MT>
__attribute__((target("avx512f,avx512bw,avx512vnni"))) void tile_kernel(const uint8_t * tile, int64_t nb, const uint8_t * act, size_t stride,
                                                                      int64_t k, const float * bias, const float * gelu, float * out, int64_t n) {
    constexpr Format f = T == GGML_TYPE_Q4_0 ? kQ4 : kQ8Unsigned;
    const uint8_t * scales = tile;
    const uint8_t * weights = tile + size_t(nb) * kBlockScaleBytes;
    const size_t scale_offset = size_t(k);
    const size_t start_offset = size_t(k) + 4 * size_t(nb);
    __m512 acc[MT];
    for (int j = 0; j < MT; ++j) acc[j] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
        __m512i w[kGroups];
        load_block<T>(weights + size_t(b) * f.packed_block, w);
        __m512i sums[MT];
        for (int j = 0; j < MT; ++j) {
            int32_t start;
            std::memcpy(&start, act + size_t(j) * stride + start_offset + 4 * size_t(b), sizeof start);
            sums[j] = _mm512_set1_epi32(start);
        }
        for (int g = 0; g < kGroups; ++g) {
            for (int j = 0; j < MT; ++j) {
                int32_t four;
                std::memcpy(&four, act + size_t(j) * stride + size_t(b) * kBlock + 4 * size_t(g), sizeof four);
                sums[j] = _mm512_dpbusd_epi32(sums[j], w[g], _mm512_set1_epi32(four));
            }
        }
        const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(scales + size_t(b) * kBlockScaleBytes)));
        for (int j = 0; j < MT; ++j) {
            float d_a;
            std::memcpy(&d_a, act + size_t(j) * stride + scale_offset + 4 * size_t(b), sizeof d_a);
            acc[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums[j]), _mm512_mul_ps(dw, _mm512_set1_ps(d_a)), acc[j]);
        }
    }
    const __m512 b = bias != nullptr ? _mm512_loadu_ps(bias) : _mm512_setzero_ps();
    for (int j = 0; j < MT; ++j) _mm512_storeu_ps(out + size_t(j) * size_t(n), finish(_mm512_add_ps(acc[j], b), gelu));
}

// Group g of block b's weights (16 rows x 4 k, unsigned bytes), loaded on its own.
template <ggml_type T>
__attribute__((target("avx512f,avx512bw"), always_inline)) inline __m512i load_group(const uint8_t * wb, int g) {
    if constexpr (T == GGML_TYPE_Q4_0) {
        const __m512i packed = _mm512_loadu_si512(wb + (g % (kGroups / 2)) * 64);
        const __m512i low_nibbles = _mm512_set1_epi8(0x0F);
        return g < kGroups / 2 ? _mm512_and_si512(packed, low_nibbles) : _mm512_and_si512(_mm512_srli_epi16(packed, 4), low_nibbles);
    } else {
        return _mm512_loadu_si512(wb + g * 64);
    }
}

// Prefill on two neighbouring tiles (32 output rows) at once, for up to kPairColumns activation
// rows: each broadcast activation value feeds two VPDPBUSDs and each weight register MT, which
// halves the loads per multiply-add of tile_kernel (there the load ports, not the multipliers,
// set the pace), and 2 x MT independent sums hide the instruction's latency.
// Registers: 2 x MT sums + 2 x MT accumulators + 2 weights + 1 activation + scales, within 32.
constexpr int kPairColumns = 6;
template <ggml_type T, int MT>
__attribute__((target("avx512f,avx512bw,avx512vnni"))) void pair_kernel(const uint8_t * tile, size_t tile_bytes, int64_t nb, const uint8_t * act,
                                                                      size_t stride, int64_t k, const float * bias, const float * gelu, float * out,
                                                                      int64_t n) {
    constexpr Format f = T == GGML_TYPE_Q4_0 ? kQ4 : kQ8Unsigned;
    const uint8_t * scales[2] = {tile, tile + tile_bytes};
    const uint8_t * weights[2] = {scales[0] + size_t(nb) * kBlockScaleBytes, scales[1] + size_t(nb) * kBlockScaleBytes};
    const size_t scale_offset = size_t(k);
    const size_t start_offset = size_t(k) + 4 * size_t(nb);
    __m512 acc[2][MT];
    for (int h = 0; h < 2; ++h) {
        for (int j = 0; j < MT; ++j) acc[h][j] = _mm512_setzero_ps();
    }
    for (int64_t b = 0; b < nb; ++b) {
        __m512i sums[2][MT];
        for (int j = 0; j < MT; ++j) {
            int32_t start;
            std::memcpy(&start, act + size_t(j) * stride + start_offset + 4 * size_t(b), sizeof start);
            sums[0][j] = _mm512_set1_epi32(start);
            sums[1][j] = sums[0][j];
        }
        const uint8_t * wb0 = weights[0] + size_t(b) * f.packed_block;
        const uint8_t * wb1 = weights[1] + size_t(b) * f.packed_block;
#pragma GCC unroll 8
        for (int g = 0; g < kGroups; ++g) {
            const __m512i w0 = load_group<T>(wb0, g);
            const __m512i w1 = load_group<T>(wb1, g);
#pragma GCC unroll 8
            for (int j = 0; j < MT; ++j) {
                int32_t four;
                std::memcpy(&four, act + size_t(j) * stride + size_t(b) * kBlock + 4 * size_t(g), sizeof four);
                const __m512i a = _mm512_set1_epi32(four);
                sums[0][j] = _mm512_dpbusd_epi32(sums[0][j], w0, a);
                sums[1][j] = _mm512_dpbusd_epi32(sums[1][j], w1, a);
            }
        }
        for (int h = 0; h < 2; ++h) {
            const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(scales[h] + size_t(b) * kBlockScaleBytes)));
            for (int j = 0; j < MT; ++j) {
                float d_a;
                std::memcpy(&d_a, act + size_t(j) * stride + scale_offset + 4 * size_t(b), sizeof d_a);
                // ggml's order, sum x (d_w x d_a): a product rounded the other way moves results by an
                // ulp, enough to flip a near-tie of the random test models' greedy tokens.
                acc[h][j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums[h][j]), _mm512_mul_ps(dw, _mm512_set1_ps(d_a)), acc[h][j]);
            }
        }
    }
    for (int h = 0; h < 2; ++h) {
        const __m512 b = bias != nullptr ? _mm512_loadu_ps(bias + 16 * h) : _mm512_setzero_ps();
        for (int j = 0; j < MT; ++j) _mm512_storeu_ps(out + size_t(j) * size_t(n) + 16 * size_t(h), finish(_mm512_add_ps(acc[h][j], b), gelu));
    }
}

using PairKernel = void (*)(const uint8_t *, size_t, int64_t, const uint8_t *, size_t, int64_t, const float *, const float *, float *, int64_t);
template <ggml_type T>
constexpr PairKernel kPairKernels[kPairColumns + 1] = {nullptr, pair_kernel<T, 1>, pair_kernel<T, 2>, pair_kernel<T, 3>,
                                                      pair_kernel<T, 4>, pair_kernel<T, 5>, pair_kernel<T, 6>};

using TileKernel = void (*)(const uint8_t *, int64_t, const uint8_t *, size_t, int64_t, const float *, const float *, float *, int64_t);
template <ggml_type T>
constexpr TileKernel kKernels[kMaxColumns + 1] = {nullptr,
                                                  row_kernel<T, 1>,
                                                  row_kernel<T, 2>,  tile_kernel<T, 3>, tile_kernel<T, 4>,
                                                  tile_kernel<T, 5>, tile_kernel<T, 6>, tile_kernel<T, 7>, tile_kernel<T, 8>};

// A row quantized by the kernels `matrix` multiplies with (the same values either way).
void quantize_for(const VnniMatrix & matrix, const float * x, const RowPlacement & at, int64_t k, int32_t offset) {
    if (matrix.on_avx2()) {
        avx2_int8::quantize_row(x, at, k, offset);
    } else {
        quantize_row(x, at, k, offset);
    }
}

// userdata: the VnniMatrix the rows are quantized for (its type sets the weights' offset; whether
// its product runs on AMX tiles, their layout).
void quantize_op(ggml_tensor * dst, int ith, int nth, void * userdata) {
    const ggml_tensor * x = dst->src[0];
    const int64_t k = x->ne[0];
    const int64_t m = x->ne[1];
    const auto * matrix = static_cast<const VnniMatrix *>(userdata);
    const int32_t offset = format_of(matrix->type(), matrix->on_avx2()).offset;
    auto * out = static_cast<uint8_t *>(dst->data);
    if (ith == 0) matrix->start_shared_multiply();
    if (matrix->uses_amx(m)) {
        const int64_t nb = k / kBlock;
        for (int64_t row = ith; row < amx::padded_rows(m); row += nth) {
            const RowPlacement at = tile_placement(out, k, row);
            if (row < m) {
                quantize_row(reinterpret_cast<const float *>(static_cast<const char *>(x->data) + size_t(row) * x->nb[1]), at, k, offset);
                continue;
            }
            for (int64_t b = 0; b < nb; ++b) {  // padding: zero values with a zero scale
                std::memset(at.values + size_t(b) * at.value_step, 0, kBlock);
                at.scales[size_t(b) * at.scale_step] = 0.0f;
            }
        }
        return;
    }
    const size_t stride = activation_stride(k);
    for (int64_t row = ith; row < m; row += nth) {
        quantize_for(*matrix, reinterpret_cast<const float *>(static_cast<const char *>(x->data) + size_t(row) * x->nb[1]),
                     row_placement(out + size_t(row) * stride, k), k, offset);
    }
}

const float * bias_of(const ggml_tensor * dst) { return dst->src[1] != nullptr ? static_cast<const float *>(dst->src[1]->data) : nullptr; }

// Where a fused GELU's table rides in op_params: ggml keeps the custom op's own parameters
// (function, task count, user data: 24 bytes) at the start of those 64 bytes; the last 8 are free.
constexpr size_t kGeluOffset = sizeof(ggml_tensor::op_params) - sizeof(const float *);
static_assert(kGeluOffset >= 3 * sizeof(void *), "op_params has no room for the GELU table");

// The table of a product fused with a GELU, else null (ggml zeroes a new tensor's op_params).
const float * gelu_of(const ggml_tensor * dst) {
    const float * table;
    std::memcpy(&table, reinterpret_cast<const char *>(dst->op_params) + kGeluOffset, sizeof table);
    return table;
}

// src[0]: activations quantized by quantize_op; src[1]: the bias or nothing.
void multiply_op(ggml_tensor * dst, int ith, int nth, void * userdata) {
    const auto * matrix = static_cast<const VnniMatrix *>(userdata);
    const auto * activations = static_cast<const uint8_t *>(dst->src[0]->data);
    auto * out = static_cast<float *>(dst->data);
    if (dst->ne[1] > 2 && matrix->n() % (2 * kRows) == 0) {
        matrix->multiply_shared(activations, bias_of(dst), out, dst->ne[1], gelu_of(dst));
    } else {
        matrix->multiply(activations, bias_of(dst), out, dst->ne[1], ith, nth, gelu_of(dst));
    }
}

// Decode's single row: every thread quantizes it for itself (a few microseconds) rather than
// waiting at a barrier for one thread to do it. src[0]: the f32 row; src[1]: the bias or nothing.
void multiply_row_op(ggml_tensor * dst, int ith, int nth, void * userdata) {
    const auto * matrix = static_cast<const VnniMatrix *>(userdata);
    thread_local std::vector<uint8_t> row;
    row.resize(activation_stride(matrix->k()));
    quantize_for(*matrix, static_cast<const float *>(dst->src[0]->data), row_placement(row.data(), matrix->k()), matrix->k(),
                 format_of(matrix->type(), matrix->on_avx2()).offset);
    matrix->multiply(row.data(), bias_of(dst), static_cast<float *>(dst->data), 1, ith, nth, gelu_of(dst));
}

// One tile of 16 weight rows in ggml's layout (`rows` at `row_bytes` apart) -> the kernel's:
// per block the 16 rows' f16 scales, then the values with 4 consecutive k of a row per 32-bit
// lane (q8_0 stored as q + 128; q4_0's nibble bytes as they are, which the kernel splits).
// Each lane of a gather reads one row, so a block is a handful of gathers.
__attribute__((target("avx512f,avx512bw"))) void pack_tile(const uint8_t * rows, size_t row_bytes, ggml_type type, int64_t nb, uint8_t * out) {
    const Format f = format_of(type, false);
    const __m512i row_offsets = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                                   _mm512_set1_epi32(int32_t(row_bytes)));
    const __m512i flip = _mm512_set1_epi8(char(0x80));
    uint8_t * scales = out;
    uint8_t * weights = out + size_t(nb) * kBlockScaleBytes;
    for (int64_t b = 0; b < nb; ++b) {
        const uint8_t * block = rows + size_t(b) * f.source_block;
        // The low 16 bits of each gathered dword are the row's f16 d.
        const __m512i d = _mm512_i32gather_epi32(row_offsets, block, 1);
        _mm256_storeu_si256(reinterpret_cast<__m256i *>(scales + size_t(b) * kBlockScaleBytes), _mm512_cvtepi32_epi16(d));
        uint8_t * w = weights + size_t(b) * f.packed_block;
        if (type == GGML_TYPE_Q4_0) {
            // Byte j of a q4_0 block holds element j (low nibble) and j + 16 (high): byte 4p + c
            // of a lane is group p's c-th value and group p + 4's, as the kernel unpacks them.
            for (int p = 0; p < kGroups / 2; ++p) {
                _mm512_storeu_si512(w + p * 64, _mm512_i32gather_epi32(row_offsets, block + 2 + 4 * p, 1));
            }
        } else {
            for (int g = 0; g < kGroups; ++g) {
                _mm512_storeu_si512(w + g * 64, _mm512_xor_si512(_mm512_i32gather_epi32(row_offsets, block + 2 + 4 * g, 1), flip));
            }
        }
    }
}

#endif  // MOONDREAM_VNNI_MATRIX

}  // namespace

namespace {

KernelReport cpu_choice_of(const char * disable_variable) {
#if MOONDREAM_VNNI_MATRIX
    __builtin_cpu_init();
    const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni");
    return avx512_kernel_choice("vnni_matrix", has, "AVX-512 F, BW and VNNI",
                                "q8_0 and q4_0 matrices of a model loaded with vnniKernel (the default) use it", disable_variable);
#else
    (void)disable_variable;
    return KernelReport{"vnni_matrix", false, "built only for x86-64"};
#endif
}

// The AVX2 kernels run where the VNNI ones cannot (the CPU or MOONDREAM_CPU_LEVEL rules them out),
// switched off with them by the same variable and option.
KernelReport avx2_choice_of(const char * disable_variable) {
    constexpr const char * kName = "int8_matrix_avx2";
    if (cpu_choice_of(nullptr).chosen) return KernelReport{kName, false, "this CPU has AVX-512 VNNI, so vnni_matrix runs instead"};
#if MOONDREAM_VNNI_MATRIX
    return kernel_choice(kName, avx2_int8::cpu_has(), "AVX2, FMA and F16C", CpuLevel::avx2,
                         "q8_0 and q4_0 matrices of a model loaded with vnniKernel (the default) use it",
                         disable_variable);
#else
    (void)disable_variable;
    return KernelReport{kName, false, "built only for x86-64"};
#endif
}

// Which kernels this process packs for, from the CPU and the cap alone (the variable and the
// option are read at every load: matmul_weights.cpp).
enum class Kernels { none, avx2, avx512_vnni };
Kernels process_kernels() {
    static const Kernels kernels = cpu_choice_of(nullptr).chosen   ? Kernels::avx512_vnni
                                   : avx2_choice_of(nullptr).chosen ? Kernels::avx2
                                                                    : Kernels::none;
    return kernels;
}

}  // namespace

// The variable is read again at every load (matmul_weights.cpp); only the report names it.
KernelReport VnniMatrix::cpu_choice() { return cpu_choice_of("MOONDREAM_DISABLE_VNNI_MATRIX"); }
KernelReport VnniMatrix::avx2_cpu_choice() { return avx2_choice_of("MOONDREAM_DISABLE_VNNI_MATRIX"); }

bool VnniMatrix::supports(const ggml_tensor * weight) {
    const Kernels kernels = process_kernels();
    return kernels != Kernels::none && (weight->type == GGML_TYPE_Q8_0 || weight->type == GGML_TYPE_Q4_0) &&
           weight->ne[0] % kBlock == 0 && weight->ne[1] % kRows == 0 && weight->ne[2] == 1 && weight->ne[3] == 1;
}

size_t VnniMatrix::packed_bytes(const ggml_tensor * weight) {
    const size_t nb = size_t(weight->ne[0]) / kBlock;
    return size_t(weight->ne[1] / kRows) * nb * (kBlockScaleBytes + format_of(weight->type, false).packed_block);
}

std::unique_ptr<VnniMatrix> VnniMatrix::pack(const ggml_tensor * weight, const RowReader & read) {
    if (!supports(weight)) return nullptr;
    // In huge pages: a few hundred page faults instead of hundreds of thousands while packing.
    AnonymousPages storage = map_anonymous_huge(packed_bytes(weight));
    if (!storage) throw std::bad_alloc();
    std::unique_ptr<VnniMatrix> packed = pack_into(weight, storage.get(), read);
    if (packed) packed->storage_ = std::move(storage);
    return packed;
}

std::unique_ptr<VnniMatrix> VnniMatrix::adopt(const ggml_tensor * weight, const uint8_t * packed_data) {
    if (!supports(weight)) return nullptr;
    std::unique_ptr<VnniMatrix> matrix(new VnniMatrix());
    matrix->type_ = weight->type;
    matrix->k_ = weight->ne[0];
    matrix->n_ = weight->ne[1];
    matrix->avx2_ = process_kernels() == Kernels::avx2;
    const Format f = format_of(weight->type, matrix->avx2_);
    matrix->tile_bytes_ = size_t(matrix->k_ / kBlock) * (kBlockScaleBytes + f.packed_block);
    matrix->bytes_ = packed_bytes(weight);
    matrix->data_ = packed_data;
    // Read at every load, like MOONDREAM_DISABLE_VNNI_MATRIX.
    matrix->use_amx_ = !matrix->avx2_ && amx::cpu_choice().chosen;
    return matrix;
}

uint64_t VnniMatrix::layout_fingerprint() {
    // Pack a small made-up q8_0 and q4_0 weight (2 tiles of 64 k) and hash the bytes, so that any
    // change to the tiles' layout or to which kernels this process packs for changes the value.
    uint64_t h = 0xcbf29ce484222325ull ^ uint64_t(process_kernels());
    for (ggml_type type : {GGML_TYPE_Q8_0, GGML_TYPE_Q4_0}) {
        constexpr int64_t k = 2 * kBlock, n = 2 * kRows;
        ggml_tensor w{};
        w.type = type;
        w.ne[0] = k;
        w.ne[1] = n;
        w.ne[2] = w.ne[3] = 1;
        w.nb[0] = ggml_type_size(type);
        w.nb[1] = ggml_row_size(type, k);
        w.nb[2] = w.nb[3] = w.nb[1] * size_t(n);
        std::vector<uint8_t> source(w.nb[1] * size_t(n));
        uint32_t state = 12345;
        for (uint8_t & byte : source) byte = uint8_t((state = state * 1103515245u + 12345u) >> 16);
        // Block scales: small finite f16 values (the packers may convert them).
        const size_t block = ggml_type_size(type);
        for (size_t at = 0; at + block <= source.size(); at += block) {
            source[at] = uint8_t(at);
            source[at + 1] = 0x2c;
        }
        w.data = source.data();
        if (!supports(&w)) continue;
        std::vector<uint8_t> out(packed_bytes(&w));
        if (!pack_into(&w, out.data())) continue;
        for (uint8_t byte : out) h = (h ^ byte) * 0x100000001b3ull;
    }
    return h;
}

std::unique_ptr<VnniMatrix> VnniMatrix::pack_into(const ggml_tensor * weight, uint8_t * into, const RowReader & read) {
    std::unique_ptr<VnniMatrix> packed = adopt(weight, into);
    if (!packed) return nullptr;
    const int64_t nb = packed->k_ / kBlock;
    const int64_t tiles = packed->n_ / kRows;
#if MOONDREAM_VNNI_MATRIX
    // Read, the source comes in chunks of tiles small enough to stay in L2 until packed.
    constexpr int64_t kChunkTiles = 16;
    std::vector<uint8_t> chunk(read ? size_t(std::min(tiles, kChunkTiles) * kRows) * weight->nb[1] : 0);
    for (int64_t t0 = 0; t0 < tiles; t0 += kChunkTiles) {
        const int64_t count = std::min(kChunkTiles, tiles - t0);
        const uint8_t * rows = static_cast<const uint8_t *>(weight->data) + size_t(t0 * kRows) * weight->nb[1];
        if (read) {
            if (!read(t0 * kRows, count * kRows, chunk.data())) return nullptr;
            rows = chunk.data();
        }
        for (int64_t t = 0; t < count; ++t) {
            (packed->avx2_ ? avx2_int8::pack_tile : pack_tile)(rows + size_t(t * kRows) * weight->nb[1], weight->nb[1], weight->type, nb,
                      into + size_t(t0 + t) * packed->tile_bytes_);
        }
    }
#endif
    return packed;
}

ggml_tensor * VnniMatrix::mul_mat(ggml_context * ctx, ggml_tensor * x, ggml_tensor * bias, const float * gelu_table) const {
#if MOONDREAM_VNNI_MATRIX
    const int64_t m = x->ne[1];
    auto * self = const_cast<VnniMatrix *>(this);
    // The AMX and AVX2 kernels store plain sums.
    if (gelu_table != nullptr && (uses_amx(m) || avx2_)) return nullptr;
    auto fuse = [&](ggml_tensor * out) {
        std::memcpy(reinterpret_cast<char *>(out->op_params) + kGeluOffset, &gelu_table, sizeof gelu_table);
        return out;
    };
    if (m == 1) {
        ggml_tensor * args[2] = {x, bias};
        ggml_tensor * out = ggml_custom_4d(ctx, GGML_TYPE_F32, n_, 1, 1, 1, args, bias != nullptr ? 2 : 1, multiply_row_op, GGML_N_TASKS_MAX, self);
        ggml_set_name(out, gelu_table != nullptr ? "vnni_matvec_gelu" : "vnni_matvec");  // names are what an op profile calls our kernels
        return fuse(out);
    }
    ggml_tensor * quantize_args[1] = {x};
    const size_t quantized_bytes = uses_amx(m) ? amx::activation_bytes(m, k_) : activation_stride(k_) * size_t(m);
    ggml_tensor * quantized = ggml_custom_4d(ctx, GGML_TYPE_I8, int64_t(quantized_bytes), 1, 1, 1, quantize_args, 1, quantize_op,
                                             GGML_N_TASKS_MAX, self);
    ggml_set_name(quantized, "vnni_quantize");
    ggml_tensor * args[2] = {quantized, bias};
    ggml_tensor * out = ggml_custom_4d(ctx, GGML_TYPE_F32, n_, m, 1, 1, args, bias != nullptr ? 2 : 1, multiply_op, GGML_N_TASKS_MAX, self);
    ggml_set_name(out, gelu_table != nullptr ? "vnni_matmul_gelu" : "vnni_matmul");
    return fuse(out);
#else
    (void)ctx;
    (void)x;
    (void)bias;
    (void)gelu_table;
    return nullptr;  // pack() never returns a VnniMatrix here
#endif
}

void VnniMatrix::multiply_shared(const uint8_t * activations, const float * bias, float * out, int64_t m, const float * gelu) const {
#if MOONDREAM_VNNI_MATRIX
    if (uses_amx(m)) {
        multiply_amx(activations, bias, out, m);
        return;
    }
    const int64_t pairs = n_ / kRows / 2;
    const int64_t nb = k_ / kBlock;
    const size_t stride = activation_stride(k_);
    if (avx2_) {
        for (int64_t pair = next_pair_.fetch_add(1, std::memory_order_relaxed); pair < pairs; pair = next_pair_.fetch_add(1, std::memory_order_relaxed)) {
            for (int64_t t = 2 * pair; t < 2 * pair + 2; ++t) {
                avx2_int8::multiply_tile(type_, tile(t), nb, activations, stride, k_, bias != nullptr ? bias + t * kRows : nullptr,
                                         out + size_t(t * kRows), n_, m);
            }
        }
        return;
    }
    const bool q4 = type_ == GGML_TYPE_Q4_0;
    for (int64_t pair = next_pair_.fetch_add(1, std::memory_order_relaxed); pair < pairs; pair = next_pair_.fetch_add(1, std::memory_order_relaxed)) {
        const int64_t t = 2 * pair;
        for (int64_t j = 0; j < m; j += kPairColumns) {
            const int columns = int(std::min<int64_t>(kPairColumns, m - j));
            const PairKernel kernel = q4 ? kPairKernels<GGML_TYPE_Q4_0>[columns] : kPairKernels<GGML_TYPE_Q8_0>[columns];
            kernel(tile(t), tile_bytes_, nb, activations + size_t(j) * stride, stride, k_, bias != nullptr ? bias + t * kRows : nullptr, gelu,
                   out + size_t(j) * size_t(n_) + size_t(t * kRows), n_);
        }
    }
#else
    (void)activations, (void)bias, (void)out, (void)m, (void)gelu;
#endif
}

bool VnniMatrix::uses_amx(int64_t m) const { return !avx2_ && use_amx_ && m >= kAmxMinRows && n_ % (2 * kRows) == 0; }

void VnniMatrix::multiply_amx(const uint8_t * activations, const float * bias, float * out, int64_t m) const {
    // Units of (rows, tile pair), handed out rows-major: both threads work on the same rows at a
    // time, which stay in their L2 (about 1 MiB of them) while every pair's weights pass over.
    const int64_t pairs = n_ / kRows / 2;
    const int64_t nb = k_ / kBlock;
    const size_t row_bytes = size_t(nb) * amx::kGroupBlockBytes / amx::kGroupRows;
    const int64_t fit = std::max<int64_t>(32, int64_t((size_t(1) << 20) / row_bytes) / 32 * 32);
    const int64_t chunks = (m + fit - 1) / fit;
    const int64_t chunk_rows = ((m + chunks - 1) / chunks + 31) / 32 * 32;
    const int64_t units = chunks * pairs;
    for (int64_t u = next_pair_.fetch_add(1, std::memory_order_relaxed); u < units; u = next_pair_.fetch_add(1, std::memory_order_relaxed)) {
        const int64_t first_row = (u / pairs) * chunk_rows;
        const int64_t t = 2 * (u % pairs);
        const amx::TilePair pair{{reinterpret_cast<const uint16_t *>(tile(t)), reinterpret_cast<const uint16_t *>(tile(t + 1))},
                                 {tile(t) + size_t(nb) * kBlockScaleBytes, tile(t + 1) + size_t(nb) * kBlockScaleBytes},
                                 nb,
                                 type_ == GGML_TYPE_Q4_0};
        amx::multiply_pair(pair, activations + size_t(first_row) * row_bytes, std::min(chunk_rows, m - first_row),
                           bias != nullptr ? bias + t * kRows : nullptr, out + size_t(first_row) * size_t(n_) + size_t(t * kRows), size_t(n_));
    }
}

void VnniMatrix::multiply(const uint8_t * activations, const float * bias, float * out, int64_t m, int ith, int nth, const float * gelu) const {
    const int64_t tiles = n_ / kRows;
    if (m <= 2 && nth > 1 && nth <= TileClaims::kMaxThreads) {
        // Decode: each thread streams its own share in order, whole groups of the tiles a decode
        // row takes at once (kDecodeTiles) and about 256 KiB at a time (the claims' atomics stay rare), and
        // then helps with the others' a tile at a time (tile_claims.h).
        const int64_t own_step = kDecodeTiles * std::max<int64_t>(1, int64_t((size_t(256) << 10) / tile_bytes_) / kDecodeTiles);
        for (auto r = claims_.take_own(tiles, ith, nth, own_step); !r.empty(); r = claims_.take_own(tiles, ith, nth, own_step)) {
            multiply_tiles(activations, bias, out, m, r.first, r.last, gelu);
        }
        for (auto r = claims_.take_other(tiles, ith, nth, 1); !r.empty(); r = claims_.take_other(tiles, ith, nth, 1)) {
            multiply_tiles(activations, bias, out, m, r.first, r.last, gelu);
        }
        claims_.leave(nth);
        return;
    }
    // Prefill takes tiles in pairs, so each thread's share is rounded up to an even count.
    const int64_t share = (tiles + nth - 1) / nth;
    const int64_t per_thread = m > 2 ? (share + 1) / 2 * 2 : share;
    const int64_t first = std::min(tiles, per_thread * ith);
    const int64_t last = std::min(tiles, first + per_thread);
    multiply_tiles(activations, bias, out, m, first, last, gelu);
}

void VnniMatrix::multiply_tiles(const uint8_t * activations, const float * bias, float * out, int64_t m, int64_t first, int64_t last,
                                const float * gelu) const {
#if MOONDREAM_VNNI_MATRIX
    const size_t stride = activation_stride(k_);
    const int64_t nb = k_ / kBlock;
    if (m == 1 && type_ == GGML_TYPE_Q4_0) {
        // q4_0's decode row is the AVX2 kernel's on either path (avx2_int8.cpp: 256-bit halves,
        // VPMADDUBSW pairs, exact integer sums, so row_kernel's results bit for bit), which kept
        // more of the weights in flight than VPDPBUSD on whole registers: kernel_bench's matvec on
        // the Zen 4 VM in a temporary harness, in-process rounds with the order rotated, medians of
        // the 37 rounds in a high-bandwidth phase: 54.0 GB/s against row_kernel's 48.6 (VPDPBUSD on
        // 256-bit halves 49.8, VPMADDUBSW on whole registers 49.2). On a Zen 5 VM the two streamed
        // alike, one tile at a time.
        avx2_int8::multiply_q4_row(tile(first), tile_bytes_, last - first, nb, activations, k_, bias != nullptr ? bias + first * kRows : nullptr,
                                   out + size_t(first * kRows));
        if (gelu != nullptr) gelu_in_place(out + size_t(first * kRows), (last - first) * kRows, gelu);
        return;
    }
    if (avx2_) {
        for (int64_t t = first; t < last; ++t) {
            avx2_int8::multiply_tile(type_, tile(t), nb, activations, stride, k_, bias != nullptr ? bias + t * kRows : nullptr,
                                     out + size_t(t * kRows), n_, m);
        }
        return;
    }
    if (m == 1) {
        // q8_0's decode row: groups of kDecodeTiles tiles at once, then any left one by one.
        int64_t t = first;
        for (; t + kDecodeTiles <= last; t += kDecodeTiles) {
            q8_rows_kernel<kDecodeTiles>(tile(t), tile_bytes_, nb, activations, k_, bias != nullptr ? bias + t * kRows : nullptr, gelu,
                                         out + size_t(t * kRows));
        }
        for (; t < last; ++t) {
            row_kernel<GGML_TYPE_Q8_0, 1>(tile(t), nb, activations, stride, k_, bias != nullptr ? bias + t * kRows : nullptr, gelu,
                                          out + size_t(t * kRows), n_);
        }
        return;
    }
    const bool q4 = type_ == GGML_TYPE_Q4_0;
    for (int64_t t = first; t < last;) {
        if (m > 2 && t + 1 < last) {
            for (int64_t j = 0; j < m; j += kPairColumns) {
                const int columns = int(std::min<int64_t>(kPairColumns, m - j));
                const PairKernel kernel = q4 ? kPairKernels<GGML_TYPE_Q4_0>[columns] : kPairKernels<GGML_TYPE_Q8_0>[columns];
                kernel(tile(t), tile_bytes_, nb, activations + size_t(j) * stride, stride, k_, bias != nullptr ? bias + t * kRows : nullptr, gelu,
                       out + size_t(j) * size_t(n_) + size_t(t * kRows), n_);
            }
            t += 2;
            continue;
        }
        for (int64_t j = 0; j < m; j += kMaxColumns) {
            const int columns = int(std::min<int64_t>(kMaxColumns, m - j));
            const TileKernel kernel = q4 ? kKernels<GGML_TYPE_Q4_0>[columns] : kKernels<GGML_TYPE_Q8_0>[columns];
            kernel(tile(t), nb, activations + size_t(j) * stride, stride, k_, bias != nullptr ? bias + t * kRows : nullptr, gelu,
                   out + size_t(j) * size_t(n_) + size_t(t * kRows), n_);
        }
        t += 1;
    }
#else
    (void)activations, (void)bias, (void)out, (void)m, (void)first, (void)last, (void)gelu;
#endif
}

}  // namespace moondream
