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
#include "vision_model.h"
#include "vision_graph.h"

namespace moondream {

class VisionEncoder {
public:
    // `vision` must outlive the encoder (the model owns both).
    // `release_weights`: LoadParams::release_vision_weights.
    static Result<std::unique_ptr<VisionEncoder>> create(const VisionModel & vision, std::shared_ptr<ComputePool> pool, bool release_weights);

    // `pixels`: normalised CHW floats, 3 x image_size x image_size. Writes n_patches x n_proj_out
    // floats (row per patch) into `embeddings`.
    Status encode(const float * pixels, std::vector<float> & embeddings, const std::atomic<bool> * abort);

    // Bytes of the graph's compute buffers.
    size_t compute_bytes() const;

private:
    VisionEncoder() = default;
    const VisionModel * vision_ = nullptr;
    bool release_weights_ = false;
    std::unique_ptr<CpuBackend> cpu_;
    std::vector<uint8_t> graph_memory_;
    ggml_context_ptr graph_ctx_;
    VisionGraph graph_;
    ggml_gallocr_ptr allocator_;
    std::vector<float> patches_;
    std::vector<float> key_mask_;  // ggml's attention path: keys padded to a multiple of 8 (vision_graph.h)
};

}  // namespace moondream
