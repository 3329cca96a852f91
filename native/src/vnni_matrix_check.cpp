// A self-check of VnniMatrix against ggml's own matmul of the same quantized weight and the same
// activations (the tests' direct evidence that the kernel computes ggml's arithmetic).
#include <cmath>
#include <cstdint>

#include "cpu_backend_loader.h"
#include "ggml-cpp.h"
#include "vnni_matrix.h"
#include "moondream_testing.h"

namespace moondream {

namespace {

// Deterministic values in (-1, 1), with an occasional outlier as real activations have.
float next_value(uint64_t & state) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    const float unit = float(state >> 40) / float(1u << 24) * 2.0f - 1.0f;
    return (state >> 20) % 97 == 0 ? unit * 8.0f : unit;
}

}  // namespace

Result<VnniCheck> check_vnni_matrix(int type, int64_t k, int64_t n, int64_t m, uint64_t seed, int n_threads) {
    if (type != GGML_TYPE_Q8_0 && type != GGML_TYPE_Q4_0) return Error{ErrorCode::invalid_argument, "the check takes q8_0 or q4_0"};
    if (k < 32 || k > 16384 || k % 32 != 0 || n < 16 || n > 16384 || n % 16 != 0 || m < 1 || m > 512 || n_threads < 1 || n_threads > 64) {
        return Error{ErrorCode::invalid_argument,
                     "the check takes k 32..16384 (a multiple of 32), n 16..16384 (a multiple of 16), m 1..512, threads 1..64"};
    }
    const size_t weight_bytes = ggml_row_size(ggml_type(type), k) * size_t(n);
    const size_t bytes = weight_bytes + size_t(k) * size_t(m) * 4 + 8 * size_t(n) * size_t(m) * 4 + size_t(k) * size_t(m) * 2 + (16u << 20);
    ggml_context_ptr ctx(ggml_init({bytes, nullptr, /*no_alloc =*/false}));
    if (!ctx) return Error{ErrorCode::out_of_memory, "cannot allocate the check's tensors"};
    ggml_tensor * weight = ggml_new_tensor_2d(ctx.get(), ggml_type(type), k, n);
    ggml_tensor * x = ggml_new_tensor_2d(ctx.get(), GGML_TYPE_F32, k, m);
    uint64_t state = seed;
    std::vector<float> values(size_t(k) * size_t(n));
    for (float & v : values) v = next_value(state);
    ggml_quantize_chunk(ggml_type(type), values.data(), weight->data, 0, n, k, nullptr);
    for (int64_t i = 0; i < k * m; ++i) static_cast<float *>(x->data)[i] = next_value(state);

    VnniCheck out;
    std::unique_ptr<VnniMatrix> packed = VnniMatrix::pack(weight);
    out.supported = packed != nullptr;  // shapes are valid above, so only the CPU can say no
    if (!packed) return out;
    out.on_amx_tiles = packed->uses_amx(m);
    // With a bias, as the model's matmuls have one (the kernel adds it to each output tile).
    ggml_tensor * bias = ggml_new_tensor_1d(ctx.get(), GGML_TYPE_F32, n);
    for (int64_t i = 0; i < n; ++i) static_cast<float *>(bias->data)[i] = next_value(state);
    ggml_tensor * reference = ggml_add(ctx.get(), ggml_mul_mat(ctx.get(), weight, x), bias);
    ggml_tensor * ours = packed->mul_mat(ctx.get(), x, bias);
    ggml_cgraph * graph = ggml_new_graph(ctx.get());
    ggml_build_forward_expand(graph, reference);
    ggml_build_forward_expand(graph, ours);
    Result<const CpuBackendApi *> cpu = cpu_backend_api();
    if (!cpu.ok()) return cpu.error();
    ggml_backend_ptr backend(cpu.value()->init_backend());
    if (!backend) return Error{ErrorCode::internal, "cannot start ggml's CPU backend"};
    cpu.value()->set_n_threads(backend.get(), n_threads);
    if (ggml_backend_graph_compute(backend.get(), graph) != GGML_STATUS_SUCCESS) {
        return Error{ErrorCode::internal, "the check's graph failed"};
    }
    const auto * a = static_cast<const float *>(ours->data);
    const auto * b = static_cast<const float *>(reference->data);
    double worst = 0;
    double scale = 0;
    for (int64_t i = 0; i < n * m; ++i) {
        worst = std::max(worst, std::fabs(double(a[i]) - double(b[i])));
        scale = std::max(scale, std::fabs(double(b[i])));
    }
    out.max_relative_difference = scale > 0 ? worst / scale : worst;
    return out;
}

}  // namespace moondream
