#include "gelu_table.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "avx512_gemm.h"
#include "gelu_lookup.h"
#include "ggml-cpp.h"

#if defined(__x86_64__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#define MOONDREAM_GELU_TABLE 1
#endif

namespace moondream {

namespace {

constexpr size_t kEntries = size_t(1) << 16;

#if MOONDREAM_GELU_TABLE

__attribute__((target("avx512f,avx512bw,avx512vl"))) void gelu_rows(const float * x, float * y, int64_t n, const float * table) {
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 lanes = n - i >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(y + i, lanes, avx512::gelu_lookup(_mm512_maskz_loadu_ps(lanes, x + i), table));
    }
}

#endif

// dst = gelu(x) for x [n, rows] f32; each thread takes a contiguous share of the rows.
void gelu_op(ggml_tensor * dst, const ggml_tensor * x, int ith, int nth, void * userdata) {
#if MOONDREAM_GELU_TABLE
    const auto * table = static_cast<const std::vector<float> *>(userdata);
    const int64_t n = x->ne[0];
    const int64_t rows = ggml_nrows(x);
    const int64_t per = (rows + nth - 1) / nth;
    for (int64_t r = ith * per; r < std::min(rows, (ith + 1) * per); ++r) {
        gelu_rows(reinterpret_cast<const float *>(static_cast<const char *>(x->data) + size_t(r) * x->nb[1]),
                  reinterpret_cast<float *>(static_cast<char *>(dst->data) + size_t(r) * dst->nb[1]), n, table->data());
    }
#else
    (void)dst, (void)x, (void)ith, (void)nth, (void)userdata;
#endif
}

}  // namespace

KernelReport gelu_table_cpu_choice() {
    return avx512::cpu_choice("gelu_table", "the text model's fast GELU uses it", "MOONDREAM_DISABLE_GELU_TABLE");
}

bool gelu_table_supported() { return avx512::available() && std::getenv("MOONDREAM_DISABLE_GELU_TABLE") == nullptr; }

Result<std::vector<float>> compute_gelu_table(const std::function<Status(ggml_cgraph *)> & compute) {
    const size_t bytes = 2 * kEntries * sizeof(float) + ggml_graph_overhead() + 4 * ggml_tensor_overhead() + 1024;
    ggml_context_ptr ctx(ggml_init({bytes, nullptr, false}));
    if (!ctx) return Error{ErrorCode::out_of_memory, "cannot allocate the GELU table"};
    ggml_tensor * inputs = ggml_new_tensor_1d(ctx.get(), GGML_TYPE_F32, int64_t(kEntries));
    auto * in = static_cast<float *>(inputs->data);
    for (size_t bits = 0; bits < kEntries; ++bits) in[bits] = ggml_fp16_to_fp32(ggml_fp16_t(bits));
    ggml_tensor * outputs = ggml_gelu(ctx.get(), inputs);
    ggml_cgraph * graph = ggml_new_graph(ctx.get());
    ggml_build_forward_expand(graph, outputs);
    if (Status status = compute(graph)) return status.value();
    const auto * out = static_cast<const float *>(outputs->data);
    return std::vector<float>(out, out + kEntries);
}

ggml_tensor * gelu_from_table(ggml_context * ctx, ggml_tensor * x, const std::vector<float> & table) {
    ggml_tensor * out = ggml_map_custom1(ctx, x, gelu_op, GGML_N_TASKS_MAX, const_cast<std::vector<float> *>(&table));
    ggml_set_name(out, "gelu_table");  // what an op profile calls it
    return out;
}

}  // namespace moondream
