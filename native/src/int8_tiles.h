// The layout our int8 matmul kernels share (vnni_matrix.h: AVX-512 VNNI; avx2_int8.h: AVX2).
//
// A weight [k, n] is repacked into tiles of 16 rows. Per block of 32 k a tile holds the 16 rows'
// f16 scales, then their values with 4 consecutive k of a row per 32-bit lane: 64 bytes per group
// of 4 k, rows 0-7 in the first 32 bytes, rows 8-15 in the next (one 512-bit register, or two
// 256-bit ones). q4_0 keeps its nibble bytes, two groups per byte.
//
// An activation row is quantized to q8_0 as ggml quantizes it for its own dot products: k int8
// values, then per block its f32 scale, then per block the integer sum a block's dot starts from
// (-offset x the sum of its values, which undoes the weights' offset).
#pragma once

#include <cstddef>
#include <cstdint>

#include "ggml.h"

#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

namespace moondream::int8_tiles {

constexpr int kRows = 16;            // output rows per tile
constexpr int kBlock = 32;           // q8_0 and q4_0 block
constexpr int kGroups = kBlock / 4;  // groups of 4 k per block
constexpr size_t kBlockScaleBytes = size_t(kRows) * 2;  // 16 f16 scales

// Per type: ggml's block size in bytes, our packed weight bytes per block of a tile, and the
// offset the packed values carry. The VNNI kernels multiply unsigned weights (VPDPBUSD), so their
// q8_0 is stored as q + 128; the AVX2 kernels store q8_0 as it is (their products take signed
// weights). q4_0's nibbles are q + 8 for both.
struct Format {
    size_t source_block;
    size_t packed_block;
    int32_t offset;
};
constexpr Format kQ8Unsigned = {2 + kBlock, size_t(kRows) * kBlock, 128};
constexpr Format kQ8Signed = {2 + kBlock, size_t(kRows) * kBlock, 0};
constexpr Format kQ4 = {2 + kBlock / 2, size_t(kRows) * kBlock / 2, 8};

inline size_t tile_bytes(const Format & f, int64_t nb) { return size_t(nb) * (kBlockScaleBytes + f.packed_block); }

// Bytes of one quantized activation row, 64-byte aligned: k values, nb scales, nb starts.
inline size_t activation_stride(int64_t k) {
    const size_t nb = size_t(k) / kBlock;
    return (size_t(k) + nb * 8 + 63) / 64 * 64;
}

// Where a quantizer puts block b of a row: its 32 values, its f32 scale and (when `starts` is not
// null) -offset x the sum of its values.
struct RowPlacement {
    int8_t * values;
    size_t value_step;  // bytes between blocks' values
    float * scales;
    size_t scale_step;  // floats between blocks' scales
    int32_t * starts;
};

// The kernels' row at `out`: k values, then nb scales, then nb starts.
inline RowPlacement row_placement(uint8_t * out, int64_t k) {
    const size_t nb = size_t(k) / kBlock;
    return {reinterpret_cast<int8_t *>(out), kBlock, reinterpret_cast<float *>(out + k), 1, reinterpret_cast<int32_t *>(out + k + 4 * nb)};
}

// Decode streams each weight once, so its kernels prefetch the block `kPrefetchL2Blocks` ahead
// into L2 and the one `kPrefetchL1Blocks` ahead into L1 as they take block `wb`
// (prefetches never fault, so running past the weights' end is harmless). One core keeps only
// so many misses in flight: with a kernel's instructions between its loads and a single prefetch
// 8 blocks ahead into L1, each core streamed at about 19 GB/s while two plain reads drew 60+.
// A prefetch into L2 does not hold an L1 miss buffer for the whole trip from memory. Decode at
// depth 750 on a Zen 4 EPYC VM, fresh processes alternating: q4_0 41.3-42.5 tok/s against
// 32.3-36.8 (8 ahead into L1 only), q8_0 26.2-28.0 against 17.1-26.1; the AVX2 kernel (capped)
// 47.0-48.4 against 33.9-38.8 (q4_0). kernel_bench's matvec in a temporary harness, in-process rounds alternating: 48.5
// against 38.1 GB/s (q4_0) and 48.1 against 41.5 (q8_0), medians of about 50 rounds. 32 to 128
// blocks ahead, T1 or T2, and L1 at 2 to 8 ahead all landed at 43-48 GB/s, 5-10 above the single
// L1 prefetch; without the L1 prefetch q4_0 lost about 1 GB/s and q8_0 about 5. On a Zen 5 EPYC
// VM (`scripts/kernel-bench.sh 1 5 matvec`, one thread, builds alternating): 19-20 GB/s of q4_0
// against 13-14 with the prefetches taken out; 32 or 128 ahead, T0 or T2, L1 at 8 and a scales
// prefetch all landed within that host's noise of this. The one-row decode kernels of
// vnni_matrix.cpp now take 4 tiles at once with prefetches of their own (the next tiles' blocks
// and scales), which lifted that core's stream to about 27 GB/s; this one serves the single-tile
// paths (two-row decode, a share's leftover tiles, the AVX2 q4_0 decode).
constexpr size_t kPrefetchL2Blocks = 64;
constexpr size_t kPrefetchL1Blocks = 4;

inline void prefetch_ahead(const uint8_t * wb, size_t packed_block) {
#if defined(__x86_64__)
    const uint8_t * far = wb + kPrefetchL2Blocks * packed_block;
    const uint8_t * near = wb + kPrefetchL1Blocks * packed_block;
    for (size_t line = 0; line < packed_block; line += 64) {
        _mm_prefetch(reinterpret_cast<const char *>(far + line), _MM_HINT_T1);
        _mm_prefetch(reinterpret_cast<const char *>(near + line), _MM_HINT_T0);
    }
#else
    (void)wb, (void)packed_block;
#endif
}

// Tiles a decode row (one activation row) takes at once: the VNNI q8_0 row and the AVX2 q4_0 row
// (which the VNNI path runs for q4_0 too) stream this many tiles side by side.
constexpr int64_t kDecodeTiles = 4;

// The decode rows that take NT consecutive tiles at once (`tile_stride` bytes apart) prefetch, as
// they take block `b` of tile `t`: the block `far_blocks` ahead in that tile, or past its end the
// same block of the tile NT further on, into L2; the one kPrefetchL1Blocks ahead into L1; and
// every other block, the scales of the tile NT further on, which otherwise missed as each group
// of tiles began. Issued tile by tile between the tiles' arithmetic: all of a block's prefetches
// in one burst ran q8_0 decode slower (depth 750, Zen 5 VM: 32-36 against 28-31 ms a token).
// always_inline: without it GCC 12 dropped every prefetch from the AVX2 q4_0 kernel (no
// prefetch instruction in its object code, and one core's stream fell from 27 to 13 GB/s);
// check `objdump -d` of a kernel for prefetcht1 after changing this.
template <int NT>
__attribute__((always_inline)) inline void prefetch_tile(const uint8_t * tiles, size_t tile_stride, int64_t nb, int64_t b, int t, size_t packed_block, int64_t far_blocks) {
#if defined(__x86_64__)
    const size_t scale_bytes = size_t(nb) * kBlockScaleBytes;
    const uint8_t * tile = tiles + size_t(t) * tile_stride;
    const int64_t ahead = b + far_blocks;
    const uint8_t * far = ahead < nb ? tile + scale_bytes + size_t(ahead) * packed_block : tile + NT * tile_stride + scale_bytes + size_t(ahead - nb) * packed_block;
    const uint8_t * near = tile + scale_bytes + (size_t(b) + kPrefetchL1Blocks) * packed_block;
    for (size_t line = 0; line < packed_block; line += 64) {
        _mm_prefetch(reinterpret_cast<const char *>(far + line), _MM_HINT_T1);
        _mm_prefetch(reinterpret_cast<const char *>(near + line), _MM_HINT_T0);
    }
    if ((b & 1) == 0) _mm_prefetch(reinterpret_cast<const char *>(tile + NT * tile_stride + size_t(b) * kBlockScaleBytes), _MM_HINT_T1);
#else
    (void)tiles, (void)tile_stride, (void)nb, (void)b, (void)t, (void)packed_block, (void)far_blocks;
#endif
}

}  // namespace moondream::int8_tiles
