#include "avx2_int8.h"

#include <algorithm>
#include <cstring>

#if defined(__x86_64__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#define MOONDREAM_AVX2_INT8 1
#endif

namespace moondream::avx2_int8 {

using namespace int8_tiles;

namespace {

#if MOONDREAM_AVX2_INT8

int32_t load_four(const uint8_t * p) {
    int32_t four;
    std::memcpy(&four, p, sizeof four);
    return four;
}

// d_w x d_a of block b for MT activation rows, the tile's rows 0-7 and 8-15 (h = 0 and 1): the
// scale every kernel multiplies a block's sums by, in ggml's order (the product first).
template <int MT>
__attribute__((target("avx2,fma,f16c"), always_inline)) inline void block_scales(const uint8_t * scales, int64_t b, const uint8_t * act, size_t stride,
                                                                               size_t scale_offset, __m256 out[MT][2]) {
    const uint8_t * block = scales + size_t(b) * kBlockScaleBytes;
    const __m256 dw[2] = {_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(block))),
                          _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(block + 16)))};
    for (int j = 0; j < MT; ++j) {
        float d_a;
        std::memcpy(&d_a, act + size_t(j) * stride + scale_offset + 4 * size_t(b), sizeof d_a);
        const __m256 da = _mm256_set1_ps(d_a);
        for (int h = 0; h < 2; ++h) out[j][h] = _mm256_mul_ps(dw[h], da);
    }
}

// One q4_0 tile (16 rows: two registers of 8 int32 sums, h = 0 and 1) with MT activation rows.
// A block's VPMADDUBSW pairs add up in 16-bit lanes (16 products of at most 15 x 127 each, below
// 32767), widened once per block, then sum x (d_w x d_a) per block as the VNNI kernels have it
// (in this order q4_0 keeps its parity with llama.cpp's AVX2 build). Decode (kPrefetch)
// streams the weights once and prefetches ahead. Registers (16): MT x 2 block sums + MT x 2
// accumulators + 2 or 3 weight registers + an activation broadcast; MT is at most 3.
template <int MT, bool kPrefetch>
__attribute__((target("avx2,fma,f16c"))) void q4_tile_kernel(const uint8_t * tile, int64_t nb, const uint8_t * act, size_t stride, int64_t k,
                                                            const float * bias, float * out, int64_t n) {
    constexpr Format f = kQ4;
    const uint8_t * scales = tile;
    const uint8_t * weights = tile + size_t(nb) * kBlockScaleBytes;
    const size_t scale_offset = size_t(k);
    const size_t start_offset = size_t(k) + 4 * size_t(nb);
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[MT][2];
    for (int j = 0; j < MT; ++j) acc[j][0] = acc[j][1] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
        const uint8_t * wb = weights + size_t(b) * f.packed_block;
        if constexpr (kPrefetch) prefetch_ahead(wb, f.packed_block);
        __m256i sums[MT][2];
        const __m256i nibbles = _mm256_set1_epi8(0x0F);
        __m256i pairs[MT][2];
        for (int j = 0; j < MT; ++j) pairs[j][0] = pairs[j][1] = _mm256_setzero_si256();
#pragma GCC unroll 4
        for (int p = 0; p < kGroups / 2; ++p) {
#pragma GCC unroll 2
            for (int h = 0; h < 2; ++h) {
                const __m256i packed = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(wb + p * 64 + h * 32));
                const __m256i low = _mm256_and_si256(packed, nibbles);
                const __m256i high = _mm256_and_si256(_mm256_srli_epi16(packed, 4), nibbles);
#pragma GCC unroll 3
                for (int j = 0; j < MT; ++j) {
                    const uint8_t * qa = act + size_t(j) * stride + size_t(b) * kBlock;
                    const __m256i a_low = _mm256_set1_epi32(load_four(qa + 4 * p));
                    const __m256i a_high = _mm256_set1_epi32(load_four(qa + 4 * (p + kGroups / 2)));
                    pairs[j][h] = _mm256_add_epi16(pairs[j][h], _mm256_add_epi16(_mm256_maddubs_epi16(low, a_low), _mm256_maddubs_epi16(high, a_high)));
                }
            }
        }
        for (int j = 0; j < MT; ++j) {
            const __m256i start = _mm256_set1_epi32(load_four(act + size_t(j) * stride + start_offset + 4 * size_t(b)));
            for (int h = 0; h < 2; ++h) sums[j][h] = _mm256_add_epi32(_mm256_madd_epi16(pairs[j][h], ones), start);
        }
        __m256 d[MT][2];
        block_scales<MT>(scales, b, act, stride, scale_offset, d);
        // ggml's order, sum x (d_w x d_a), as the VNNI kernels have it.
        for (int j = 0; j < MT; ++j)
            for (int h = 0; h < 2; ++h) acc[j][h] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums[j][h]), d[j][h], acc[j][h]);
    }
    for (int h = 0; h < 2; ++h) {
        const __m256 b = bias != nullptr ? _mm256_loadu_ps(bias + 8 * h) : _mm256_setzero_ps();
        for (int j = 0; j < MT; ++j) _mm256_storeu_ps(out + size_t(j) * size_t(n) + 8 * size_t(h), _mm256_add_ps(acc[j][h], b));
    }
}

// Decode of q4_0 (one activation row) on NT consecutive tiles at once, block by block: NT streams
// of weights in flight instead of one, which is what lifted one core's stream (a standalone copy
// on a Zen 5 VM, one thread from memory, rounds alternating: 4 tiles 26.0-26.6 GB/s against one
// tile's 18.4-18.8, and above a plain sequential read's 22-26 in the same rounds; 8 tiles no
// better than 4), with prefetch_tile's prefetches. Each tile's arithmetic is q4_tile_kernel<1>'s,
// so the results are its bit for bit (and the VNNI kernels', which run this one for q4_0 decode).
// With 4 tiles the accumulators take 8 of the 16 registers.
template <int NT>
__attribute__((target("avx2,fma,f16c"))) void q4_rows_kernel(const uint8_t * tiles, size_t tile_stride, int64_t nb, const uint8_t * act, int64_t k,
                                                            const float * bias, float * out) {
    constexpr int64_t kFarBlocks = 32;
    const size_t scale_bytes = size_t(nb) * kBlockScaleBytes;
    const __m256i ones = _mm256_set1_epi16(1);
    const __m256i nibbles = _mm256_set1_epi8(0x0F);
    __m256 acc[NT][2];
    for (int t = 0; t < NT; ++t) acc[t][0] = acc[t][1] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
        const uint8_t * qa = act + size_t(b) * kBlock;
        float d_a;
        std::memcpy(&d_a, act + size_t(k) + 4 * size_t(b), sizeof d_a);
        const __m256 da = _mm256_set1_ps(d_a);
        const __m256i start = _mm256_set1_epi32(load_four(act + size_t(k) + 4 * size_t(nb) + 4 * size_t(b)));
        for (int t = 0; t < NT; ++t) {
            prefetch_tile<NT>(tiles, tile_stride, nb, b, t, kQ4.packed_block, kFarBlocks);
            const uint8_t * tile = tiles + size_t(t) * tile_stride;
            const uint8_t * wb = tile + scale_bytes + size_t(b) * kQ4.packed_block;
            __m256i pairs[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};
            for (int p = 0; p < kGroups / 2; ++p) {
                const __m256i a_low = _mm256_set1_epi32(load_four(qa + 4 * p));
                const __m256i a_high = _mm256_set1_epi32(load_four(qa + 4 * (p + kGroups / 2)));
                for (int h = 0; h < 2; ++h) {
                    const __m256i packed = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(wb + p * 64 + h * 32));
                    const __m256i low = _mm256_and_si256(packed, nibbles);
                    const __m256i high = _mm256_and_si256(_mm256_srli_epi16(packed, 4), nibbles);
                    pairs[h] = _mm256_add_epi16(pairs[h], _mm256_add_epi16(_mm256_maddubs_epi16(low, a_low), _mm256_maddubs_epi16(high, a_high)));
                }
            }
            const uint8_t * block = tile + size_t(b) * kBlockScaleBytes;
            for (int h = 0; h < 2; ++h) {
                const __m256i sums = _mm256_add_epi32(_mm256_madd_epi16(pairs[h], ones), start);
                const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(block + 16 * h)));
                acc[t][h] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), _mm256_mul_ps(dw, da), acc[t][h]);
            }
        }
    }
    for (int t = 0; t < NT; ++t) {
        for (int h = 0; h < 2; ++h) {
            const __m256 b = bias != nullptr ? _mm256_loadu_ps(bias + t * kRows + 8 * h) : _mm256_setzero_ps();
            _mm256_storeu_ps(out + t * kRows + 8 * h, _mm256_add_ps(acc[t][h], b));
        }
    }
}

// q8_0 in ggml's AVX2 order. ggml's AVX2 q8_0 products (ggml_vec_dot_q8_0_q8_0, llamafile's
// tinyBLAS_Q0_AVX) keep, per output, 8 float lanes across blocks: lane g accumulates
// fma(d_w x d_a, the block's exact 4-k sum of group g), and the lanes are added at the end as
// hsum_float_8 adds them. One integer sum per block (the VNNI kernels' order) rounds differently,
// enough to flip a near-tie of a greedy continuation against llama.cpp's AVX2 build. Here each
// group's 4-k sums for 8 output rows are one register, so lane g of ggml is our accumulator g,
// and the final sum is hsum_float_8's tree done across registers: the same results bit for bit.
//
// Eight accumulators per output row do not fit in registers, so blocks come in chunks small
// enough for L1, each chunk passed over once per group with that group's accumulators loaded;
// the blocks' d_w x d_a are computed once per chunk.
template <int MT>
__attribute__((target("avx2,fma,f16c"))) void q8_tile_kernel(const uint8_t * tile, int64_t nb, const uint8_t * act, size_t stride, int64_t k,
                                                            const float * bias, float * out, int64_t n) {
    constexpr size_t kValues = kQ8Signed.packed_block;
    constexpr int64_t kChunk = 8;
    const uint8_t * scales = tile;
    const uint8_t * weights = tile + size_t(nb) * kBlockScaleBytes;
    const size_t scale_offset = size_t(k);
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 lanes[kGroups][MT][2];
    for (int g = 0; g < kGroups; ++g)
        for (int j = 0; j < MT; ++j) lanes[g][j][0] = lanes[g][j][1] = _mm256_setzero_ps();
    __m256 d[kChunk][MT][2];
    for (int64_t b0 = 0; b0 < nb; b0 += kChunk) {
        const int64_t count = std::min(kChunk, nb - b0);
        for (int64_t c = 0; c < count; ++c) block_scales<MT>(scales, b0 + c, act, stride, scale_offset, d[c]);
#pragma GCC unroll 8
        for (int g = 0; g < kGroups; ++g) {
            __m256 acc[MT][2];
            for (int j = 0; j < MT; ++j) acc[j][0] = lanes[g][j][0], acc[j][1] = lanes[g][j][1];
            for (int64_t c = 0; c < count; ++c) {
                const uint8_t * wg = weights + size_t(b0 + c) * kValues + size_t(g) * 64;
                const __m256i w[2] = {_mm256_loadu_si256(reinterpret_cast<const __m256i *>(wg)),
                                      _mm256_loadu_si256(reinterpret_cast<const __m256i *>(wg + 32))};
                const __m256i magnitude[2] = {_mm256_abs_epi8(w[0]), _mm256_abs_epi8(w[1])};
#pragma GCC unroll 4
                for (int j = 0; j < MT; ++j) {
                    const __m256i a = _mm256_set1_epi32(load_four(act + size_t(j) * stride + size_t(b0 + c) * kBlock + 4 * size_t(g)));
#pragma GCC unroll 2
                    for (int h = 0; h < 2; ++h) {
                        const __m256i sums = _mm256_madd_epi16(_mm256_maddubs_epi16(magnitude[h], _mm256_sign_epi8(a, w[h])), ones);
                        acc[j][h] = _mm256_fmadd_ps(d[c][j][h], _mm256_cvtepi32_ps(sums), acc[j][h]);
                    }
                }
            }
            for (int j = 0; j < MT; ++j) lanes[g][j][0] = acc[j][0], lanes[g][j][1] = acc[j][1];
        }
    }
    for (int h = 0; h < 2; ++h) {
        const __m256 b = bias != nullptr ? _mm256_loadu_ps(bias + 8 * h) : _mm256_setzero_ps();
        for (int j = 0; j < MT; ++j) {
            // hsum_float_8: (lanes 0..3 + lanes 4..7), then pairs two apart, then the last two.
            const __m256 l04 = _mm256_add_ps(lanes[4][j][h], lanes[0][j][h]);
            const __m256 l15 = _mm256_add_ps(lanes[5][j][h], lanes[1][j][h]);
            const __m256 l26 = _mm256_add_ps(lanes[6][j][h], lanes[2][j][h]);
            const __m256 l37 = _mm256_add_ps(lanes[7][j][h], lanes[3][j][h]);
            const __m256 sum = _mm256_add_ps(_mm256_add_ps(l04, l26), _mm256_add_ps(l15, l37));
            _mm256_storeu_ps(out + size_t(j) * size_t(n) + 8 * size_t(h), _mm256_add_ps(sum, b));
        }
    }
}

// Decode's q8_0 product (one activation row), in the same order as q8_tile_kernel. It streams
// the weights from memory, so it reads them nearly in order: chunks of a few blocks, each passed
// over once per half of the tile's rows (8 accumulators, one per group, fit in registers; the
// other half's wait in memory between chunks). The hardware prefetchers follow this stream;
// software prefetches on top of it cost a quarter of the bandwidth (kernel_bench matvec).
__attribute__((target("avx2,fma,f16c"))) void q8_row_kernel(const uint8_t * tile, int64_t nb, const uint8_t * act, size_t, int64_t k,
                                                           const float * bias, float * out, int64_t) {
    constexpr size_t kValues = kQ8Signed.packed_block;
    constexpr int64_t kChunk = 4;
    const uint8_t * scales = tile;
    const uint8_t * weights = tile + size_t(nb) * kBlockScaleBytes;
    const auto * a_scales = reinterpret_cast<const uint8_t *>(act + k);
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 halves[2][kGroups];
    for (auto & half : halves)
        for (__m256 & l : half) l = _mm256_setzero_ps();
    for (int64_t b0 = 0; b0 < nb; b0 += kChunk) {
        const int64_t end = std::min(nb, b0 + kChunk);
        for (int h = 0; h < 2; ++h) {
            __m256 lanes[kGroups];
            for (int g = 0; g < kGroups; ++g) lanes[g] = halves[h][g];
            for (int64_t b = b0; b < end; ++b) {
                const uint8_t * wb = weights + size_t(b) * kValues + 32 * size_t(h);
                float d_a;
                std::memcpy(&d_a, a_scales + 4 * size_t(b), sizeof d_a);
                const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(scales + size_t(b) * kBlockScaleBytes + 16 * size_t(h))));
                const __m256 d = _mm256_mul_ps(dw, _mm256_set1_ps(d_a));
#pragma GCC unroll 8
                for (int g = 0; g < kGroups; ++g) {
                    const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(wb + g * 64));
                    const __m256i a = _mm256_set1_epi32(load_four(act + size_t(b) * kBlock + 4 * size_t(g)));
                    const __m256i sums = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_abs_epi8(w), _mm256_sign_epi8(a, w)), ones);
                    lanes[g] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sums), lanes[g]);
                }
            }
            for (int g = 0; g < kGroups; ++g) halves[h][g] = lanes[g];
        }
    }
    for (int h = 0; h < 2; ++h) {
        const __m256 * lanes = halves[h];
        const __m256 sum = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(lanes[4], lanes[0]), _mm256_add_ps(lanes[6], lanes[2])),
                                         _mm256_add_ps(_mm256_add_ps(lanes[5], lanes[1]), _mm256_add_ps(lanes[7], lanes[3])));
        const __m256 b = bias != nullptr ? _mm256_loadu_ps(bias + 8 * h) : _mm256_setzero_ps();
        _mm256_storeu_ps(out + 8 * h, _mm256_add_ps(sum, b));
    }
}

using TileKernel = void (*)(const uint8_t *, int64_t, const uint8_t *, size_t, int64_t, const float *, float *, int64_t);
constexpr int kColumns = 3;
// Indexed by the number of activation rows: 1 and 2 are decode's (q4_0's prefetching), 3 prefill's.
constexpr TileKernel kQ4Kernels[kColumns + 1] = {nullptr, q4_tile_kernel<1, true>, q4_tile_kernel<2, true>, q4_tile_kernel<3, false>};
constexpr TileKernel kQ8Kernels[kColumns + 1] = {nullptr, q8_row_kernel, q8_tile_kernel<2>, q8_tile_kernel<3>};

#endif  // MOONDREAM_AVX2_INT8

}  // namespace

bool cpu_has() {
#if MOONDREAM_AVX2_INT8
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
#else
    return false;
#endif
}

#if MOONDREAM_AVX2_INT8

__attribute__((target("avx2,fma,f16c"))) void quantize_row(const float * x, const RowPlacement & at, int64_t k, int32_t offset) {
    const int64_t nb = k / kBlock;
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (int64_t b = 0; b < nb; ++b) {
        __m256 v[4];
        for (int i = 0; i < 4; ++i) v[i] = _mm256_loadu_ps(x + b * kBlock + 8 * i);
        const __m256 magnitude = _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(sign, v[0]), _mm256_andnot_ps(sign, v[1])),
                                               _mm256_max_ps(_mm256_andnot_ps(sign, v[2]), _mm256_andnot_ps(sign, v[3])));
        __m128 m4 = _mm_max_ps(_mm256_extractf128_ps(magnitude, 1), _mm256_castps256_ps128(magnitude));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        const float amax = _mm_cvtss_f32(m4);
        // As ggml's quantize_row_q8_0 (and the VNNI kernels' quantizer): the f16-rounded d is what
        // the dot product scales by, while the values are rounded (to nearest even) with 127/amax.
        const float d = ggml_fp16_to_fp32(ggml_fp32_to_fp16(amax / 127.0f));
        const __m256 inverse = _mm256_set1_ps(amax != 0.0f ? 127.0f / amax : 0.0f);
        __m256i q[4];
        for (int i = 0; i < 4; ++i) {
            q[i] = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v[i], inverse), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        }
        // Narrowing packs within 128-bit lanes; the permutation puts the 32 values back in order.
        const __m256i bytes = _mm256_permutevar8x32_epi32(
            _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3])), order);
        _mm256_storeu_si256(reinterpret_cast<__m256i *>(at.values + size_t(b) * at.value_step), bytes);
        at.scales[size_t(b) * at.scale_step] = d;
        if (at.starts != nullptr) {
            const __m256i sum8 = _mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3]));
            __m128i sum4 = _mm_add_epi32(_mm256_extracti128_si256(sum8, 1), _mm256_castsi256_si128(sum8));
            sum4 = _mm_add_epi32(sum4, _mm_shuffle_epi32(sum4, 0x4E));
            sum4 = _mm_add_epi32(sum4, _mm_shuffle_epi32(sum4, 0xB1));
            at.starts[b] = -offset * _mm_cvtsi128_si32(sum4);
        }
    }
}

// Each gather lane reads one row's 4 bytes: a block's 16 rows are two gathers per group.
__attribute__((target("avx2"))) void pack_tile(const uint8_t * rows, size_t row_bytes, ggml_type type, int64_t nb, uint8_t * out) {
    const Format f = type == GGML_TYPE_Q4_0 ? kQ4 : kQ8Signed;
    const __m256i row_offsets = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(int32_t(row_bytes)));
    uint8_t * scales = out;
    uint8_t * weights = out + size_t(nb) * kBlockScaleBytes;
    // q4_0: byte j of a block holds element j (low nibble) and j + 16 (high), so 4 gathers of 4
    // bytes hold groups p and p + 4 (the kernel splits them); q8_0: 8 gathers, one per group.
    const int gathers = type == GGML_TYPE_Q4_0 ? kGroups / 2 : kGroups;
    for (int64_t b = 0; b < nb; ++b) {
        const uint8_t * block = rows + size_t(b) * f.source_block;
        for (int r = 0; r < kRows; ++r) std::memcpy(scales + size_t(b) * kBlockScaleBytes + 2 * r, block + size_t(r) * row_bytes, 2);
        uint8_t * w = weights + size_t(b) * f.packed_block;
        for (int g = 0; g < gathers; ++g) {
            for (int h = 0; h < 2; ++h) {
                const auto * source = reinterpret_cast<const int *>(block + size_t(8 * h) * row_bytes + 2 + 4 * g);
                _mm256_storeu_si256(reinterpret_cast<__m256i *>(w + g * 64 + h * 32), _mm256_i32gather_epi32(source, row_offsets, 1));
            }
        }
    }
}

void multiply_tile(ggml_type type, const uint8_t * tile, int64_t nb, const uint8_t * activations, size_t stride, int64_t k, const float * bias,
                   float * out, int64_t n, int64_t m) {
    const bool q4 = type == GGML_TYPE_Q4_0;
    for (int64_t j = 0; j < m; j += kColumns) {
        const int columns = int(std::min<int64_t>(kColumns, m - j));
        const TileKernel kernel = q4 ? kQ4Kernels[columns] : kQ8Kernels[columns];
        kernel(tile, nb, activations + size_t(j) * stride, stride, k, bias, out + size_t(j) * size_t(n), n);
    }
}

void multiply_q4_row(const uint8_t * tiles, size_t tile_stride, int64_t count, int64_t nb, const uint8_t * activation, int64_t k, const float * bias,
                     float * out) {
    int64_t t = 0;
    for (; t + kDecodeTiles <= count; t += kDecodeTiles) {
        q4_rows_kernel<kDecodeTiles>(tiles + size_t(t) * tile_stride, tile_stride, nb, activation, k, bias != nullptr ? bias + t * kRows : nullptr,
                                     out + t * kRows);
    }
    for (; t < count; ++t) {
        q4_tile_kernel<1, true>(tiles + size_t(t) * tile_stride, nb, activation, 0, k, bias != nullptr ? bias + t * kRows : nullptr, out + t * kRows, 0);
    }
}

#else

void multiply_q4_row(const uint8_t *, size_t, int64_t, int64_t, const uint8_t *, int64_t, const float *, float *) {}
void quantize_row(const float *, const RowPlacement &, int64_t, int32_t) {}
void pack_tile(const uint8_t *, size_t, ggml_type, int64_t, uint8_t *) {}
void multiply_tile(ggml_type, const uint8_t *, int64_t, const uint8_t *, size_t, int64_t, const float *, float *, int64_t, int64_t) {}

#endif

}  // namespace moondream::avx2_int8
