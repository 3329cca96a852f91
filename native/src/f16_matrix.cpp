#include "f16_matrix.h"

#include <algorithm>
#include <cstdlib>

#include "avx2_gemm.h"
#include "avx512_gemm.h"

namespace moondream {

namespace {

// userdata: the F16Matrix the rows are packed for.
void pack_op(ggml_tensor * dst, int ith, int nth, void * userdata) {
    const auto * matrix = static_cast<const F16Matrix *>(userdata);
    if (ith == 0) matrix->start_shared_multiply();
    const ggml_tensor * x = dst->src[0];
    if (matrix->on_avx2()) {
        avx2::pack_rows(static_cast<const float *>(x->data), x->nb[1] / sizeof(float), x->ne[1], x->ne[0], 1.0f, static_cast<float *>(dst->data), ith,
                        nth);
        return;
    }
    avx512::pack_rows(static_cast<const float *>(x->data), x->nb[1] / sizeof(float), x->ne[1], x->ne[0], 1.0f, static_cast<float *>(dst->data),
                      ith, nth);
}

// src[0]: the packed activations; src[1]: the bias or nothing.
void multiply_op(ggml_tensor * dst, int ith, int nth, void * userdata) {
    const auto * matrix = static_cast<const F16Matrix *>(userdata);
    const float * bias = dst->src[1] != nullptr ? static_cast<const float *>(dst->src[1]->data) : nullptr;
    (void)ith;
    matrix->multiply(static_cast<const float *>(dst->src[0]->data), dst->ne[1], bias, static_cast<float *>(dst->data), false, nth);
}

void multiply_gelu_op(ggml_tensor * dst, int ith, int nth, void * userdata) {
    const auto * matrix = static_cast<const F16Matrix *>(userdata);
    const float * bias = dst->src[1] != nullptr ? static_cast<const float *>(dst->src[1]->data) : nullptr;
    (void)ith;
    matrix->multiply(static_cast<const float *>(dst->src[0]->data), dst->ne[1], bias, static_cast<float *>(dst->data), true, nth);
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

bool F16Matrix::supports(const ggml_tensor * weight) {
    return (avx512::available() || avx2::available()) && std::getenv("MOONDREAM_DISABLE_F16_MATRIX") == nullptr && weight->type == GGML_TYPE_F16 &&
           weight->ne[1] % 16 == 0 && weight->ne[2] == 1 && weight->ne[3] == 1 && weight->nb[0] == sizeof(ggml_fp16_t) && weight->ne[0] > 0;
}

std::unique_ptr<F16Matrix> F16Matrix::wrap(const ggml_tensor * weight) {
    if (!supports(weight)) return nullptr;
    std::unique_ptr<F16Matrix> m(new F16Matrix());
    m->data_ = static_cast<const ggml_fp16_t *>(weight->data);
    m->k_ = weight->ne[0];
    m->n_ = weight->ne[1];
    m->row_stride_ = weight->nb[1] / sizeof(ggml_fp16_t);
    m->avx2_ = !avx512::available();
    return m;
}

size_t F16Matrix::packed_bytes(int64_t m) const { return (avx2_ ? avx2::packed_floats(m, k_) : avx512::packed_floats(m, k_)) * sizeof(float); }

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

void F16Matrix::multiply(const float * packed, int64_t m, const float * bias, float * out, bool gelu, int threads) const {
    const int64_t panels = avx2_ ? avx2::weight_panels(n_) : avx512::weight_panels(n_);
    const int64_t unit = unit_panels(panels, threads);
    if (avx2_) {
        for (int64_t first = next_unit_.fetch_add(1, std::memory_order_relaxed) * unit; first < panels;
             first = next_unit_.fetch_add(1, std::memory_order_relaxed) * unit) {
            avx2::multiply(packed, m, {data_, true, row_stride_, n_, k_}, bias, out, size_t(n_), first, std::min(panels, first + unit), gelu);
        }
        return;
    }
    for (int64_t first = next_unit_.fetch_add(1, std::memory_order_relaxed) * unit; first < panels;
         first = next_unit_.fetch_add(1, std::memory_order_relaxed) * unit) {
        avx512::multiply(packed, m, {data_, true, row_stride_, n_, k_}, bias, out, size_t(n_), first, std::min(panels, first + unit),
                         gelu ? avx512::Epilogue::gelu_erf : avx512::Epilogue::none);
    }
}

ggml_tensor * F16Matrix::mul_mat(ggml_context * ctx, ggml_tensor * x, ggml_tensor * bias, bool gelu) const {
    const int64_t m = x->ne[1];
    ggml_tensor * pack_args[1] = {x};
    ggml_tensor * packed = ggml_custom_4d(ctx, GGML_TYPE_F32, int64_t(packed_bytes(m) / sizeof(float)), 1, 1, 1, pack_args, 1, pack_op,
                                          GGML_N_TASKS_MAX, const_cast<F16Matrix *>(this));
    ggml_set_name(packed, "f16_matmul_pack");  // names are what an op profile calls our kernels
    ggml_tensor * args[2] = {packed, bias};
    ggml_tensor * out = ggml_custom_4d(ctx, GGML_TYPE_F32, n_, m, 1, 1, args, bias != nullptr ? 2 : 1, gelu ? multiply_gelu_op : multiply_op,
                                       GGML_N_TASKS_MAX, const_cast<F16Matrix *>(this));
    ggml_set_name(out, gelu ? "f16_matmul_gelu" : "f16_matmul");
    return out;
}

}  // namespace moondream
