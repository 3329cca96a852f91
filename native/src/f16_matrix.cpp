#include "f16_matrix.h"

#include <algorithm>
#include <cstdlib>

#include "avx2_gemm.h"
#include "avx512_bf16_gemm.h"
#include "avx512_gemm.h"

namespace moondream {

namespace {

// userdata: the F16Matrix the rows are packed for.
void pack_op(ggml_tensor * dst, int ith, int nth, void * userdata) {
    const auto * matrix = static_cast<const F16Matrix *>(userdata);
    if (ith == 0) matrix->start_shared_multiply();
    const ggml_tensor * x = dst->src[0];
    const auto * rows = static_cast<const float *>(x->data);
    const size_t stride = x->nb[1] / sizeof(float);
    switch (matrix->kernel()) {
        case F16Matrix::Kernel::avx2:
            avx2::pack_rows(rows, stride, x->ne[1], x->ne[0], 1.0f, static_cast<float *>(dst->data), ith, nth);
            return;
        case F16Matrix::Kernel::avx512:
            avx512::pack_rows(rows, stride, x->ne[1], x->ne[0], 1.0f, static_cast<float *>(dst->data), ith, nth);
            return;
        case F16Matrix::Kernel::avx512_bf16:
            avx512_bf16::pack_rows(rows, stride, x->ne[1], x->ne[0], 1.0f, static_cast<uint32_t *>(dst->data), ith, nth);
            return;
    }
}

// src[0]: the packed activations; src[1 + i]: part i's bias, or nothing.
F16Matrix::Biases biases_of(const ggml_tensor * dst, const F16Matrix & matrix) {
    F16Matrix::Biases biases{};
    for (size_t i = 0; i < matrix.parts(); ++i) {
        const ggml_tensor * bias = dst->src[1 + i];
        biases[i] = bias != nullptr ? static_cast<const float *>(bias->data) : nullptr;
    }
    return biases;
}

void multiply_op(ggml_tensor * dst, int ith, int nth, void * userdata) {
    const auto * matrix = static_cast<const F16Matrix *>(userdata);
    (void)ith;
    matrix->multiply(dst->src[0]->data, dst->ne[1], biases_of(dst, *matrix), static_cast<float *>(dst->data), false, nth);
}

void multiply_gelu_op(ggml_tensor * dst, int ith, int nth, void * userdata) {
    const auto * matrix = static_cast<const F16Matrix *>(userdata);
    (void)ith;
    matrix->multiply(dst->src[0]->data, dst->ne[1], biases_of(dst, *matrix), static_cast<float *>(dst->data), true, nth);
}

}  // namespace

KernelReport F16Matrix::cpu_choice() {
    return avx512::cpu_choice("f16_matrix", "f16 matrices of a loaded model (the vision tower's) use it", "MOONDREAM_DISABLE_F16_MATRIX");
}

KernelReport F16Matrix::avx2_cpu_choice() {
    constexpr const char * kName = "f16_matrix_avx2";
    if (avx512::available()) return KernelReport{kName, false, "this CPU has AVX-512 F, BW and VL, so f16_matrix runs instead"};
    return avx2::cpu_choice(kName, "f16 matrices of a loaded model (the vision tower's) use it", "MOONDREAM_DISABLE_F16_MATRIX");
}

KernelReport F16Matrix::bf16_cpu_choice() {
    constexpr const char * kName = "bf16_matrix";
    if (std::getenv("MOONDREAM_DISABLE_F16_MATRIX") != nullptr) return KernelReport{kName, false, "MOONDREAM_DISABLE_F16_MATRIX is set, so ggml's own kernels run"};
    return avx512_bf16::cpu_choice(kName, "bf16 matrices of a loaded model (a bf16 mmproj's vision tower) use it", "MOONDREAM_DISABLE_BF16_MATRIX");
}

bool F16Matrix::supports(const ggml_tensor * weight) {
    const bool half = weight->type == GGML_TYPE_F16 || (weight->type == GGML_TYPE_BF16 && weight->ne[0] % 2 == 0);
    return (avx512::available() || avx2::available()) && std::getenv("MOONDREAM_DISABLE_F16_MATRIX") == nullptr && half &&
           weight->ne[1] % 16 == 0 && weight->ne[2] == 1 && weight->ne[3] == 1 && weight->nb[0] == sizeof(ggml_fp16_t) && weight->ne[0] > 0;
}

std::unique_ptr<F16Matrix> F16Matrix::wrap(const ggml_tensor * weight) {
    if (!supports(weight)) return nullptr;
    std::unique_ptr<F16Matrix> m(new F16Matrix());
    m->format_ = weight->type == GGML_TYPE_BF16 ? WeightFormat::bf16 : WeightFormat::f16;
    m->k_ = weight->ne[0];
    m->n_ = weight->ne[1];
    m->parts_.push_back(Part{weight->data, size_t(weight->nb[1] / sizeof(ggml_fp16_t)), weight->ne[1], 0});
    const bool bf16_kernel = bf16_cpu_choice().chosen;  // read at each load, as the other switches
    m->kernel_ = !avx512::available() ? Kernel::avx2 : m->format_ == WeightFormat::bf16 && bf16_kernel ? Kernel::avx512_bf16 : Kernel::avx512;
    return m;
}

int64_t F16Matrix::panel_width() const { return kernel_ == Kernel::avx2 ? avx2::kPanelWidth : avx512::kPanelWidth; }

std::unique_ptr<F16Matrix> F16Matrix::stack(const std::vector<const F16Matrix *> & parts) {
    if (parts.empty() || parts.size() > kMaxParts) return nullptr;
    const F16Matrix & first = *parts.front();
    std::unique_ptr<F16Matrix> m(new F16Matrix());
    m->format_ = first.format_;
    m->k_ = first.k_;
    m->kernel_ = first.kernel_;
    for (const F16Matrix * part : parts) {
        if (part->parts_.size() != 1 || part->k_ != first.k_ || part->format_ != first.format_ || part->kernel_ != first.kernel_ ||
            part->n_ % first.panel_width() != 0) {
            return nullptr;
        }
        Part stacked = part->parts_.front();
        stacked.first_panel = m->n_ / first.panel_width();
        m->parts_.push_back(stacked);
        m->n_ += part->n_;
    }
    return m;
}

size_t F16Matrix::packed_bytes(int64_t m) const {
    switch (kernel_) {
        case Kernel::avx2: return avx2::packed_floats(m, k_) * sizeof(float);
        case Kernel::avx512: return avx512::packed_floats(m, k_) * sizeof(float);
        case Kernel::avx512_bf16: return avx512_bf16::packed_pairs(m, k_) * sizeof(uint32_t);
    }
    return 0;
}

namespace {

// Weight panels per unit of work: up to 8 (each chunk of activations then serves 8 tiles), as
// many as keep the threads' shares even. Units are handed out one at a time, so the op ends when
// the thread with the most units does: 9 units of 8 over 2 threads (the vision's 1152-wide outputs,
// 4 of its 5 matmuls a layer) left one thread idle for a ninth of the op.
int64_t unit_panels(int64_t panels, int threads) {
    // The busiest thread's panels, at most, with units of `unit`; a smaller unit must beat the
    // larger one by 3% to be taken.
    const auto busiest = [&](int64_t unit) { return double(((panels + unit - 1) / unit + threads - 1) / threads * unit); };
    int64_t best = 8;
    for (int64_t unit = 7; unit >= 2; --unit) {
        if (busiest(unit) < 0.97 * busiest(best)) best = unit;
    }
    return best;
}

}  // namespace

void F16Matrix::multiply(const void * packed, int64_t m, const Biases & biases, float * out, bool gelu, int threads) const {
    const int64_t panels = (n_ + panel_width() - 1) / panel_width();
    const int64_t unit = unit_panels(panels, threads);
    for (int64_t first = next_unit_.fetch_add(1, std::memory_order_relaxed) * unit; first < panels;
         first = next_unit_.fetch_add(1, std::memory_order_relaxed) * unit) {
        const int64_t last = std::min(panels, first + unit);
        // The unit's panels part by part, each part's outputs at its own columns of the rows.
        for (size_t i = 0; i < parts_.size(); ++i) {
            const Part & part = parts_[i];
            const int64_t part_end = part.first_panel + (part.n + panel_width() - 1) / panel_width();
            const int64_t from = std::max(first, part.first_panel) - part.first_panel;
            const int64_t to = std::min(last, part_end) - part.first_panel;
            if (from >= to) continue;
            const GemmWeights w{part.data, format_, part.row_stride, part.n, k_};
            float * part_out = out + part.first_panel * panel_width();
            switch (kernel_) {
                case Kernel::avx2:
                    avx2::multiply(static_cast<const float *>(packed), m, w, biases[i], part_out, size_t(n_), from, to, gelu);
                    break;
                case Kernel::avx512:
                    avx512::multiply(static_cast<const float *>(packed), m, w, biases[i], part_out, size_t(n_), from, to,
                                     gelu ? avx512::Epilogue::gelu_erf : avx512::Epilogue::none);
                    break;
                case Kernel::avx512_bf16:
                    avx512_bf16::multiply(static_cast<const uint32_t *>(packed), m, w, biases[i], part_out, size_t(n_), from, to, gelu);
                    break;
            }
        }
    }
}

ggml_tensor * F16Matrix::mul_mat(ggml_context * ctx, ggml_tensor * x, ggml_tensor * bias, bool gelu) const {
    return product(ctx, x, bias != nullptr ? std::vector<ggml_tensor *>{bias} : std::vector<ggml_tensor *>{}, gelu);
}

ggml_tensor * F16Matrix::mul_mat(ggml_context * ctx, ggml_tensor * x, const std::vector<ggml_tensor *> & biases) const {
    return product(ctx, x, biases, false);
}

ggml_tensor * F16Matrix::product(ggml_context * ctx, ggml_tensor * x, const std::vector<ggml_tensor *> & biases, bool gelu) const {
    if (!biases.empty() && biases.size() != parts_.size()) return nullptr;
    const int64_t m = x->ne[1];
    ggml_tensor * pack_args[1] = {x};
    ggml_tensor * packed = ggml_custom_4d(ctx, GGML_TYPE_F32, int64_t(packed_bytes(m) / sizeof(float)), 1, 1, 1, pack_args, 1, pack_op,
                                          GGML_N_TASKS_MAX, const_cast<F16Matrix *>(this));
    ggml_set_name(packed, "f16_matmul_pack");  // names are what an op profile calls our kernels
    ggml_tensor * args[1 + kMaxParts] = {packed};
    for (size_t i = 0; i < biases.size(); ++i) args[1 + i] = biases[i];
    ggml_tensor * out = ggml_custom_4d(ctx, GGML_TYPE_F32, n_, m, 1, 1, args, int(1 + biases.size()), gelu ? multiply_gelu_op : multiply_op,
                                       GGML_N_TASKS_MAX, const_cast<F16Matrix *>(this));
    ggml_set_name(out, gelu ? "f16_matmul_gelu" : "f16_matmul");
    return out;
}

}  // namespace moondream
