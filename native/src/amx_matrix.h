// The q8_0 and q4_0 prefill product on Intel AMX tiles, for CPUs that have AMX-INT8 (Sapphire
// Rapids and later Xeons).
//
// One TDPBSSD multiplies 16 activation rows by 16 weight rows over one 32-k block, 8,192
// multiply-adds: 128 VPDPBUSDs' worth. The weights are VnniMatrix's tiles (16 rows, 4 consecutive
// k per 32-bit lane: already the layout AMX wants for its second operand), made signed into a
// per-thread scratch once per unit of work; the activations are quantized as VnniMatrix quantizes
// them, laid out in groups of 16 rows so that a block of a group is one contiguous tile. Each block's exact integer sums are then scaled into f32 the way the VNNI kernel
// scales them, sum x (d_w x d_a) fused-added block by block, so the result is the VNNI kernel's
// bit for bit.
#pragma once

#include <cstddef>
#include <cstdint>

#include "moondream_cpu.h"

namespace moondream::amx {

// AMX-TILE, AMX-INT8 and AVX-512 F/BW/VL (CPUID), MOONDREAM_CPU_LEVEL allowing amx, and Linux
// granting this process the tile state (arch_prctl ARCH_REQ_XCOMP_PERM). Decided once.
bool available();
// The kernel report ("amx_matrix"): available() and MOONDREAM_DISABLE_AMX_MATRIX unset.
KernelReport cpu_choice();

// The machine probe's AMX int8 peak: `iterations` x 4 TDPBSSDs on full tiles (16 x 16 x 64
// multiply-adds each) into 4 independent sums. Only where available().
constexpr double kPeakLoopMultiplyAdds = 4.0 * 16 * 16 * 64;
void peak_loop(int64_t iterations);

// Quantized activations for this kernel: groups of 16 rows; per group, per block, the 16 rows' 32
// int8 values (a tile, 32 bytes a row) and then their 16 f32 scales. Groups are padded to an even
// count with zero rows, as the kernel takes 32 rows at a time.
constexpr int64_t kGroupRows = 16;
constexpr size_t kGroupValueBytes = 16 * 32;
constexpr size_t kGroupBlockBytes = kGroupValueBytes + 16 * sizeof(float);
inline int64_t padded_rows(int64_t m) { return (m + 2 * kGroupRows - 1) / (2 * kGroupRows) * (2 * kGroupRows); }
inline size_t activation_bytes(int64_t m, int64_t k) { return size_t(padded_rows(m)) * size_t(k / 32) * kGroupBlockBytes / kGroupRows; }

// Two neighbouring weight tiles (32 output rows) in VnniMatrix's layout: per block 16 f16
// scales, and per tile the packed values after all the scales.
struct TilePair {
    const uint16_t * scales[2];  // nb x 16 f16
    const uint8_t * values[2];   // nb blocks: q8_0 8 x 64 bytes (q + 128), q4_0 4 x 64 (nibbles, q + 8)
    int64_t nb;
    bool q4;
};

// out[j][0..32) = sum over blocks of dot(act row j, weight row) x (d_w x d_a) (+ bias) for the
// `rows` activation rows whose groups start at `act` (the layout above; its first row a multiple
// of 32). `out` rows are `ldc` floats apart.
void multiply_pair(const TilePair & w, const uint8_t * act, int64_t rows, const float * bias, float * out, size_t ldc);

}  // namespace moondream::amx
