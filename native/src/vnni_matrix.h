// q8_0 and q4_0 matrix multiplication with AVX-512 VNNI, for x86 CPUs that have it, and with AVX2
// (avx2_int8.h) on those that do not: the same tiles (int8_tiles.h) and the same results.
//
// ggml's x86 kernels leave most of this machine's int8 throughput unused: q8_0 prefill runs
// llamafile's 256-bit kernels at about a quarter of the probed peak, q4_0's repacked kernels at
// about half. Here a weight is repacked once at load into tiles of 16 rows whose bytes interleave
// 4 consecutive k per row, so one 512-bit VPDPBUSD multiplies 16 rows by 4 k of one activation
// row (q4_0 keeps its 4-bit values, two groups of 4 k per byte). Activations are quantized to
// q8_0 exactly as ggml quantizes them for its own q8_0 and q4_0 dot products (d = amax/127
// rounded to f16, values rounded to nearest), and each output is the sum over blocks of
// d_w * d_a * (integer block dot): ggml's arithmetic up to float summation order.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "ggml.h"
#include "memory_pages.h"
#include "moondream_cpu.h"
#include "tile_claims.h"

namespace moondream {

class VnniMatrix {
public:
    // Whether `weight` can be repacked on this CPU: q8_0 or q4_0, k a multiple of 32, n of 16,
    // and AVX-512 F, BW and VNNI present. Whether it is wanted is the loader's choice
    // (LoadParams::vnni_kernel, MatmulWeights::place).
    static bool supports(const ggml_tensor * weight);
    // Whether this process uses the kernel at all: the CPU's AVX-512 F, BW and VNNI (CPUID; the
    // kernel is compiled for them with target attributes, whatever the build's baseline) and
    // MOONDREAM_CPU_LEVEL at avx512 or above (decided once), and MOONDREAM_DISABLE_VNNI_MATRIX unset
    // (read at every load, like LoadParams::vnni_kernel).
    static KernelReport cpu_choice();
    // The AVX2 kernels' report: chosen where cpu_choice() is not, the CPU has AVX2, FMA and F16C,
    // MOONDREAM_CPU_LEVEL allows avx2 and MOONDREAM_DISABLE_VNNI_MATRIX is unset.
    static KernelReport avx2_cpu_choice();
    // Fills `out` with ggml's bytes of weight rows [first, first + count); false when it cannot.
    using RowReader = std::function<bool(int64_t first, int64_t count, uint8_t * out)>;
    // Repacks a weight [k, n] (ggml order) that supports() accepts: from its data, or, given
    // `read`, from what that reads (null when a read fails; the weight then stays unpacked).
    static std::unique_ptr<VnniMatrix> pack(const ggml_tensor * weight, const RowReader & read = {});
    // The same into `into`: packed_bytes(weight) bytes, 64-byte aligned, that outlive the matrix
    // (a model packs all its weights into one mapping: MatmulWeights).
    static std::unique_ptr<VnniMatrix> pack_into(const ggml_tensor * weight, uint8_t * into, const RowReader & read = {});
    static size_t packed_bytes(const ggml_tensor * weight);
    // A matrix over `packed_data`, bytes that pack_into() wrote for this weight in a process that
    // packs for the same kernels (a packed-weight cache file, packed_cache.h); they must outlive it.
    static std::unique_ptr<VnniMatrix> adopt(const ggml_tensor * weight, const uint8_t * packed_data);
    // Changes whenever packed bytes would: with the tiles' layout in the code or with the kernels
    // this process packs for (AVX-512 VNNI or AVX2). Packed bytes stored with one value are only
    // valid in a process that computes the same value.
    static uint64_t layout_fingerprint();

    int64_t k() const { return k_; }
    int64_t n() const { return n_; }
    ggml_type type() const { return type_; }
    size_t bytes() const { return bytes_; }

    // x [k, m] f32 -> x W^T (+ bias [n] f32, when given) [n, m] f32: a quantize op and a multiply
    // op, or for one row a single op (both multi-threaded). The bias is added in the kernel, which
    // saves decode an op (and its thread barrier) per matmul. This matrix must outlive every graph
    // built with it.
    // Given `gelu_table` (compute_gelu_table's, outliving the graph), the op stores ggml_gelu of
    // each output instead, bit for bit what gelu_from_table() of the product gives, without a
    // pass of its own over the [n, m] result; null when the product would run on AMX tiles.
    ggml_tensor * mul_mat(ggml_context * ctx, ggml_tensor * x, ggml_tensor * bias = nullptr, const float * gelu_table = nullptr) const;

    // What the multiply ops run on thread `ith` of `nth`; `bias` and `gelu` (a GELU table) may be null.
    // Decode's products (m <= 2) hand their tiles out dynamically (tile_claims.h), so every thread
    // of the op must call this once.
    void multiply(const uint8_t * activations, const float * bias, float * out, int64_t m, int ith, int nth, const float * gelu = nullptr) const;

    // Prefill's multiply (m > 2) with the tile pairs handed out one at a time from a shared counter,
    // so a thread the host slows down takes fewer: with a fixed half each, the other waited at
    // ggml's barrier for it. start_shared_multiply() resets the counter: the quantize op does, on
    // one thread, before the barrier that precedes the multiply op. The model's graphs compute one
    // at a time (ComputePool), so one counter per matrix serves.
    void start_shared_multiply() const { next_pair_.store(0, std::memory_order_relaxed); }
    void multiply_shared(const uint8_t * activations, const float * bias, float * out, int64_t m, const float * gelu = nullptr) const;

    // Whether a product of m rows runs on AMX tiles (amx_matrix.h): the CPU has AMX-INT8 (and
    // MOONDREAM_DISABLE_AMX_MATRIX was unset at load), m is 16 or more and n a multiple of 32. Its
    // activations are then quantized in the tiles' layout.
    bool uses_amx(int64_t m) const;
    // Whether this matrix multiplies with the AVX2 kernels (packed for them).
    bool on_avx2() const { return avx2_; }

private:
    VnniMatrix() = default;
    const uint8_t * tile(int64_t t) const { return data_ + size_t(t) * tile_bytes_; }
    // Tiles [first, last) of the product.
    void multiply_tiles(const uint8_t * activations, const float * bias, float * out, int64_t m, int64_t first, int64_t last,
                        const float * gelu) const;
    // multiply_shared on AMX tiles (amx_matrix.h), the same results bit for bit.
    void multiply_amx(const uint8_t * activations, const float * bias, float * out, int64_t m) const;

    ggml_type type_ = GGML_TYPE_Q8_0;
    int64_t k_ = 0;
    int64_t n_ = 0;
    size_t tile_bytes_ = 0;
    // Its own anonymous mapping rather than the C heap: freed pages go straight back to the
    // system (glibc keeps freed chunks of this size in per-thread arenas, so a disposed model's
    // weights lingered in RSS while the next one loaded).
    AnonymousPages storage_;  // empty when packed into memory of the caller's (pack_into)
    size_t bytes_ = 0;
    const uint8_t * data_ = nullptr;  // 64-byte aligned
    bool use_amx_ = false;      // amx::cpu_choice() when packed
    bool avx2_ = false;         // packed for the AVX2 kernels: no AVX-512 VNNI in this process
    mutable std::atomic<int64_t> next_pair_{0};
    mutable TileClaims claims_;  // decode's
};

}  // namespace moondream
