// The SigLIP vision tower and MLP projector (llama.cpp's clip "mlp" layout), checked at load.
#pragma once

#include <memory>
#include <vector>

#include "matmul_weights.h"
#include "moondream.h"
#include "weight_file.h"

namespace moondream {

struct VisionLayer {
    ggml_tensor * ln1 = nullptr;
    ggml_tensor * ln1_b = nullptr;
    ggml_tensor * q = nullptr;
    ggml_tensor * q_b = nullptr;
    ggml_tensor * k = nullptr;
    ggml_tensor * k_b = nullptr;
    ggml_tensor * v = nullptr;
    ggml_tensor * v_b = nullptr;
    ggml_tensor * attn_out = nullptr;
    ggml_tensor * attn_out_b = nullptr;
    ggml_tensor * ln2 = nullptr;
    ggml_tensor * ln2_b = nullptr;
    ggml_tensor * fc1 = nullptr;  // n_embd -> n_ff, whatever the file calls it
    ggml_tensor * fc1_b = nullptr;
    ggml_tensor * fc2 = nullptr;  // n_ff -> n_embd
    ggml_tensor * fc2_b = nullptr;
};

struct VisionModel {
    std::unique_ptr<WeightFile> file;
    VisionHparams hp;
    VisionProfile profile;
    ggml_tensor * patch = nullptr;     // [p, p, 3, n_embd] conv kernel
    ggml_tensor * patch_b = nullptr;
    ggml_tensor * position = nullptr;  // [n_embd, n_patches]
    std::vector<VisionLayer> layers;   // only the blocks that run
    ggml_tensor * post_ln = nullptr;
    ggml_tensor * post_ln_b = nullptr;
    ggml_tensor * mm0 = nullptr;
    ggml_tensor * mm0_b = nullptr;
    ggml_tensor * mm2 = nullptr;
    ggml_tensor * mm2_b = nullptr;
    MatmulWeights matmuls;  // where each matmul weight lives and which kernel multiplies it
};

Result<std::unique_ptr<VisionModel>> load_vision_model(const std::string & path, const WeightPlacement & placement);

}  // namespace moondream
