#include "matmul_weights.h"

#include "graph_ops.h"
#include "try.h"

namespace moondream {

Status MatmulWeights::place(WeightFile & file, const std::vector<ggml_tensor *> & weights) {
    // Weights our kernel takes are left out of ggml's repacking (one packed copy is enough).
    std::vector<ggml_tensor *> ours;
    std::vector<ggml_tensor *> ggmls;
    for (ggml_tensor * w : weights) (VnniMatrix::supports(w) ? ours : ggmls).push_back(w);
    MD_RETURN_IF_ERROR(file.map_weights(ggmls));
    for (ggml_tensor * w : ours) {
        vnni_.emplace(w, VnniMatrix::pack(w));
        file.release_mapped(w);
    }
    return std::nullopt;
}

ggml_tensor * MatmulWeights::linear(ggml_context * ctx, ggml_tensor * x, ggml_tensor * weight, ggml_tensor * bias) const {
    auto it = vnni_.find(weight);
    if (it == vnni_.end()) return moondream::linear(ctx, x, weight, bias);
    ggml_tensor * y = it->second->mul_mat(ctx, x);
    return bias != nullptr ? ggml_add(ctx, y, bias) : y;
}

size_t MatmulWeights::packed_bytes() const {
    size_t total = 0;
    for (const auto & [weight, matrix] : vnni_) total += matrix->bytes();
    return total;
}

}  // namespace moondream
