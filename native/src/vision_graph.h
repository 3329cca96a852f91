// The SigLIP encoder + MLP projector graph: linear patch embedding (patches flattened on the host
// in (channel, row, column) order, spec §1), position embedding, pre-LN blocks with
// bidirectional attention, post-LN, then fc1 -> GELU -> fc2 into the text model's width.
#pragma once

#include <vector>

#include "vision_model.h"

namespace moondream {

struct VisionGraph {
    ggml_cgraph * graph = nullptr;
    ggml_tensor * patches = nullptr;     // input [3 * p * p, n_patches]
    ggml_tensor * embeddings = nullptr;  // output [n_proj_out, n_patches]
    // input [n_keys, n_patches] on ggml's attention path when n_patches is not a multiple of 8:
    // 0 for the n_patches keys, -inf for the zero keys padding them to n_keys (fill_key_mask)
    ggml_tensor * key_mask = nullptr;
};

VisionGraph build_vision_graph(ggml_context * ctx, const VisionModel & model);
size_t vision_graph_context_size(const VisionModel & model);

// Rearranges a CHW float image (3 x S x S) into patch rows of 3*p*p values, patch-major in raster
// order; `out` must hold 3*S*S floats.
void patchify(const float * chw, int image_size, int patch_size, float * out);

// The values of VisionGraph::key_mask, for the graph's n_patches.
void fill_key_mask(const VisionGraph & graph, int64_t n_patches, std::vector<float> & scratch);

}  // namespace moondream
