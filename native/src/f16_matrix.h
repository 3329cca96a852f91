// f16 (or bf16) weight x f32 activation matrix multiplication with AVX-512 (or, on a CPU without
// it, AVX2: avx2_gemm.h), for the vision tower's matmuls.
//
// ggml multiplies an f16 weight by first rounding the activations to f16 and then running
// llamafile's tinyBLAS, which converts both operands back to f32 in its inner loop: on these
// shapes (729 image rows) that reaches about a third of the FMA peak. Here the activations stay
// f32 (one rounding fewer than ggml) and the product runs through avx512_gemm.h, which converts
// each chunk of the weight to f32 once for all 729 rows. The bias is added in the same pass. The
// weight stays where it is (the mapped file): nothing is copied at load.
//
// A bf16 weight (a bf16 mmproj, opt-in) runs on VDPBF16PS where the CPU has AVX-512 BF16
// (avx512_bf16_gemm.h: twice the multiply-adds per instruction, activations rounded to bf16), and
// elsewhere, or with MOONDREAM_DISABLE_BF16_MATRIX=1, on the same f32 kernels as f16, widened.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <vector>

#include "gemm_weights.h"
#include "ggml.h"
#include "moondream_cpu.h"

namespace moondream {

class F16Matrix {
public:
    // Whether this CPU and `weight` suit the kernel: f16 or bf16 (with k even), 2-D, contiguous, n a
    // multiple of 16, and AVX-512 F, BW and VL (or AVX2, FMA and F16C) present and allowed by
    // MOONDREAM_CPU_LEVEL (MOONDREAM_DISABLE_F16_MATRIX=1 says no).
    static bool supports(const ggml_tensor * weight);
    // Whether this process uses the kernel at all, and why.
    static KernelReport cpu_choice();
    // The AVX2 kernel's report: chosen where cpu_choice()'s CPU and cap requirements are not met, the
    // CPU has AVX2, FMA and F16C, MOONDREAM_CPU_LEVEL allows avx2, and the same variable is unset.
    static KernelReport avx2_cpu_choice();
    // The bf16 kernel's report: AVX-512 F, BW, VL and BF16, MOONDREAM_CPU_LEVEL at avx512 or above,
    // and neither MOONDREAM_DISABLE_F16_MATRIX nor MOONDREAM_DISABLE_BF16_MATRIX set.
    static KernelReport bf16_cpu_choice();
    // Wraps `weight` (which must outlive this and every graph built with it); null if unsupported.
    static std::unique_ptr<F16Matrix> wrap(const ggml_tensor * weight);

    // Most matrices stack() takes.
    static constexpr size_t kMaxParts = 3;
    // Matrices that multiply the same activations (a vision layer's q, k and v) as one: their rows
    // stacked, so the activations are packed once and the product is as wide as all of them (the
    // 1152-wide projections ran at 0.64-0.78 of the FMA peak, one 3456 wide at 0.79-0.83 in the same
    // runs: kernel_bench f16). Each output row holds the parts' outputs side by side. Null unless
    // they are single matrices with the same k, format and kernel, each n a multiple of the
    // kernel's panel width (no panel spans two parts), at most kMaxParts.
    static std::unique_ptr<F16Matrix> stack(const std::vector<const F16Matrix *> & parts);
    size_t parts() const { return parts_.size(); }

    int64_t k() const { return k_; }
    int64_t n() const { return n_; }
    // Which kernel runs the product.
    enum class Kernel { avx512, avx2, avx512_bf16 };
    Kernel kernel() const { return kernel_; }

    // x [k, m] f32 (rows contiguous) -> x W^T (+ bias [n] f32) [n, m] f32, then erf GELU if
    // `gelu` (fused into the same pass): a packing op and a multiply op, both multi-threaded.
    ggml_tensor * mul_mat(ggml_context * ctx, ggml_tensor * x, ggml_tensor * bias = nullptr, bool gelu = false) const;
    // The same for a stacked matrix, with each part's bias ([part n] f32; all of them, or none;
    // null for any other count).
    ggml_tensor * mul_mat(ggml_context * ctx, ggml_tensor * x, const std::vector<ggml_tensor *> & biases) const;

    // What the multiply op runs: units of up to 8 weight panels handed out from a shared
    // counter, so a thread the host slows down takes fewer instead of the other one waiting for it
    // at ggml's barrier. start_shared_multiply() resets the counter: the packing op does, on one
    // thread, before the barrier that precedes the multiply op. The model's graphs compute one at
    // a time (ComputePool), so one counter per matrix serves.
    void start_shared_multiply() const { next_unit_.store(0, std::memory_order_relaxed); }
    // `biases`: each part's, or null.
    using Biases = std::array<const float *, kMaxParts>;
    void multiply(const void * packed, int64_t m, const Biases & biases, float * out, bool gelu, int threads) const;

    // Bytes of the packed activations for m rows (f32, or bf16 pairs for the bf16 kernel).
    size_t packed_bytes(int64_t m) const;

private:
    F16Matrix() = default;

    int64_t panel_width() const;
    // The packing op and the product op over it (`biases`: each part's, or none).
    ggml_tensor * product(ggml_context * ctx, ggml_tensor * x, const std::vector<ggml_tensor *> & biases, bool gelu) const;

    // The rows of one weight tensor: outputs [first_panel * panel_width(), + n) of the product.
    struct Part {
        const void * data = nullptr;
        size_t row_stride = 0;  // in elements
        int64_t n = 0;
        int64_t first_panel = 0;
    };
    std::vector<Part> parts_;
    WeightFormat format_ = WeightFormat::f16;
    int64_t k_ = 0;
    int64_t n_ = 0;  // all parts'
    Kernel kernel_ = Kernel::avx512;
    mutable std::atomic<int64_t> next_unit_{0};
};

}  // namespace moondream
