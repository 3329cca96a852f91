// q8_0 matrix multiplication with AVX-512 VNNI, for x86 CPUs that have it.
//
// ggml has no repacked q8_0 layout on x86: its q8_0 prefill runs llamafile's 256-bit kernels at
// about a quarter of this machine's int8 peak. Here q8_0 weights are repacked once at load into
// tiles of 16 rows whose bytes interleave 4 consecutive k per row, so one 512-bit VPDPBUSD
// multiplies 16 rows by 4 k of one activation row. Activations are quantized to q8_0 exactly as
// ggml quantizes them for its own q8_0 dot products (d = amax/127 rounded to f16, q rounded to
// nearest), and each output is sum over blocks of d_w * d_a * (integer block dot), the same
// arithmetic as ggml's q8_0 x q8_0 product up to float summation order.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "ggml.h"

namespace moondream {

class PackedQ8 {
public:
    // Repacks a q8_0 weight [k, n] (ggml order) when this CPU has AVX-512 VNNI and the shape fits
    // (k a multiple of 32, n of 16); nullptr otherwise (the caller keeps ggml's path).
    static std::unique_ptr<PackedQ8> pack(const ggml_tensor * weight);

    int64_t k() const { return k_; }
    int64_t n() const { return n_; }
    size_t bytes() const { return storage_.size(); }

    // x [k, m] f32 -> [n, m] f32: a quantize op and a multiply op (both multi-threaded). The
    // packed weight must outlive every graph built with it.
    ggml_tensor * mul_mat(ggml_context * ctx, ggml_tensor * x) const;

    // What the multiply op runs; public for the op's trampoline.
    void multiply(const uint8_t * activations, float * out, int64_t m, int ith, int nth) const;

private:
    PackedQ8() = default;
    const uint8_t * tile(int64_t t) const { return data_ + size_t(t) * tile_bytes_; }

    int64_t k_ = 0;
    int64_t n_ = 0;
    size_t tile_bytes_ = 0;
    std::vector<uint8_t> storage_;
    uint8_t * data_ = nullptr;  // 64-byte aligned inside storage_
};

// Whether this CPU can run PackedQ8 (AVX-512 F, BW and VNNI).
bool q8_0_gemm_supported();

}  // namespace moondream
