// q8_0 and q4_0 matrix products on AVX2, for x86 CPUs without AVX-512 VNNI (Zen 3, Haswell to
// Alder Lake), on the tiles int8_tiles.h lays out: the kernels VnniMatrix runs there.
//
// ggml's AVX2 kernels for these types (its repacked q4_0 GEMM, llamafile's q8_0 tiles, its q4_0 and
// q8_0 dot products) are all llama.cpp runs on such a CPU, so without kernels of our own this
// path was only ever level with it. Activations are quantized to q8_0 as ggml quantizes them and
// block dots are exact integers (VPMADDUBSW pairs, which cannot saturate here: q4_0 values are at
// most 15, and q8_0's are multiplied by their magnitude, the sign moved to the activation). q4_0
// then adds sum x (d_w x d_a) per block as the VNNI kernels do, the same results bit for bit;
// q8_0 keeps ggml's AVX2 order instead (8 partial sums per output, avx2_int8.cpp says why), so
// its results are those of ggml's AVX2 q8_0 products.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ggml.h"
#include "int8_tiles.h"

namespace moondream::avx2_int8 {

// Whether the CPU has what the kernels are compiled for (target attributes): AVX2, FMA and F16C.
bool cpu_has();

// One activation row of k f32 values -> its q8_0 values, scales and (with `offset`) starts.
void quantize_row(const float * x, const int8_tiles::RowPlacement & at, int64_t k, int32_t offset);

// One tile of 16 weight rows in ggml's layout (`rows` at `row_bytes` apart) -> the tile layout,
// q8_0 as signed values (int8_tiles::kQ8Signed).
void pack_tile(const uint8_t * rows, size_t row_bytes, ggml_type type, int64_t nb, uint8_t * out);

// The products of one tile (16 output rows, from row `first` of the [n] outputs) with m
// quantized activation rows `stride` apart: out[j * n + first + r] for j < m, r < 16, plus the
// bias's 16 values at `bias` when given.
void multiply_tile(ggml_type type, const uint8_t * tile, int64_t nb, const uint8_t * activations, size_t stride, int64_t k, const float * bias,
                   float * out, int64_t n, int64_t m);

// Decode's q4_0 product of `count` consecutive tiles (`tile_stride` bytes apart) with one
// quantized activation row: multiply_tile's results for each, bit for bit, taken
// int8_tiles::kDecodeTiles at a time (more weight streams in flight on the core).
void multiply_q4_row(const uint8_t * tiles, size_t tile_stride, int64_t count, int64_t nb, const uint8_t * activation, int64_t k, const float * bias,
                     float * out);

}  // namespace moondream::avx2_int8
