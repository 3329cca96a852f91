// The SigLIP encoder + MLP projector graph: linear patch embedding (patches flattened on the host
// in (channel, row, column) order, spec §1), position embedding, pre-LN blocks with
// bidirectional attention, post-LN, then fc1 -> GELU -> fc2 into the text model's width.
#pragma once

#include "vision_model.h"

namespace moondream {

struct VisionGraph {
    ggml_cgraph * graph = nullptr;
    ggml_tensor * patches = nullptr;     // input [3 * p * p, n_patches]
    ggml_tensor * embeddings = nullptr;  // output [n_proj_out, n_patches]
};

VisionGraph build_vision_graph(ggml_context * ctx, const VisionModel & model);
size_t vision_graph_context_size(const VisionModel & model);

// Rearranges a CHW float image (3 x S x S) into patch rows of 3*p*p values, patch-major in raster
// order; `out` must hold 3*S*S floats.
void patchify(const float * chw, int image_size, int patch_size, float * out);

}  // namespace moondream
