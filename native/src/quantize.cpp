#include <algorithm>
#include <thread>

#include "ggml.h"
#include "moondream_tools.h"

namespace moondream {

namespace {

// The types ggml_quantize_chunk can produce without an importance matrix. Anything else reaches
// its `default: assert(false)`, so it is refused here first.
bool can_produce(ggml_type type) {
    switch (type) {
        case GGML_TYPE_F32: case GGML_TYPE_F16: case GGML_TYPE_BF16:
        case GGML_TYPE_Q4_0: case GGML_TYPE_Q4_1: case GGML_TYPE_Q5_0: case GGML_TYPE_Q5_1: case GGML_TYPE_Q8_0:
        case GGML_TYPE_Q2_K: case GGML_TYPE_Q3_K: case GGML_TYPE_Q4_K: case GGML_TYPE_Q5_K: case GGML_TYPE_Q6_K:
        case GGML_TYPE_IQ4_NL: case GGML_TYPE_IQ4_XS:
            return true;
        default:
            return false;
    }
}

}  // namespace

Result<std::vector<uint8_t>> quantize_rows(int type_id, const float * data, int64_t n_rows, int64_t n_per_row, int n_threads) {
    if (type_id < 0 || type_id >= GGML_TYPE_COUNT) {
        return Error{ErrorCode::invalid_argument, "unknown ggml type id " + std::to_string(type_id)};
    }
    const auto type = static_cast<ggml_type>(type_id);
    if (!can_produce(type) || ggml_quantize_requires_imatrix(type)) {
        return Error{ErrorCode::invalid_argument, std::string("the converter cannot produce ggml type ") + ggml_type_name(type)};
    }
    const ggml_type_traits * traits = ggml_get_type_traits(type);
    if (n_rows < 0 || n_per_row <= 0 || n_per_row % traits->blck_size != 0) {
        return Error{ErrorCode::invalid_argument, "a row of " + std::to_string(n_per_row) + " values is not a whole number of " +
                                                      ggml_type_name(type) + " blocks (" + std::to_string(traits->blck_size) + ")"};
    }
    const size_t row_bytes = ggml_row_size(type, n_per_row);
    std::vector<uint8_t> out(row_bytes * size_t(n_rows));
    if (n_rows == 0) return out;

    // ggml_quantize_chunk lazily builds per-type tables; do it once before threads race for it.
    ggml_quantize_init(type);
    const int64_t threads = std::clamp<int64_t>(n_threads, 1, n_rows);
    const int64_t rows_per_thread = (n_rows + threads - 1) / threads;
    auto work = [&](int64_t first_row) {
        const int64_t rows = std::min(rows_per_thread, n_rows - first_row);
        if (rows <= 0) return;
        // ggml offsets both source and destination by `start` itself.
        ggml_quantize_chunk(type, data, out.data(), first_row * n_per_row, rows, n_per_row, nullptr);
    };
    std::vector<std::thread> pool;
    for (int64_t t = 1; t < threads; ++t) pool.emplace_back(work, t * rows_per_thread);
    work(0);
    for (std::thread & thread : pool) thread.join();
    return out;
}

}  // namespace moondream
