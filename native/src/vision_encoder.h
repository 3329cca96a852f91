// Runs the vision graph. Its shape never changes, so it is built and allocated once and reused
// for every image.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "ggml-alloc.h"
#include "cpu_backend.h"
#include "ggml-backend.h"
#include "ggml-cpp.h"
#include "model.h"
#include "vision_graph.h"

namespace moondream {

class VisionEncoder {
public:
    static Result<std::unique_ptr<VisionEncoder>> create(std::shared_ptr<const Model> model, int n_threads);

    // `pixels`: normalised CHW floats, 3 x image_size x image_size. Writes n_patches x n_proj_out
    // floats (row per patch) into `embeddings`.
    Status encode(const float * pixels, std::vector<float> & embeddings, const std::atomic<bool> * abort);

private:
    VisionEncoder() = default;
    std::shared_ptr<const Model> model_;
    std::unique_ptr<CpuBackend> cpu_;
    std::vector<uint8_t> graph_memory_;
    ggml_context_ptr graph_ctx_;
    VisionGraph graph_;
    ggml_gallocr_ptr allocator_;
    std::vector<float> patches_;
};

}  // namespace moondream
