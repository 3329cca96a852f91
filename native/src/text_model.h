// The Phi-1.5 text model's weights (llama.cpp's phi2 layout), checked at load.
#pragma once

#include <memory>
#include <vector>

#include "matmul_weights.h"
#include "moondream.h"
#include "weight_file.h"

namespace moondream {

struct TextLayer {
    ggml_tensor * attn_norm = nullptr;
    ggml_tensor * attn_norm_b = nullptr;
    ggml_tensor * qkv = nullptr;  // fused, rows Q | K | V
    ggml_tensor * qkv_b = nullptr;
    ggml_tensor * attn_out = nullptr;
    ggml_tensor * attn_out_b = nullptr;
    ggml_tensor * ffn_up = nullptr;
    ggml_tensor * ffn_up_b = nullptr;
    ggml_tensor * ffn_down = nullptr;
    ggml_tensor * ffn_down_b = nullptr;
};

struct TextModel {
    std::unique_ptr<WeightFile> file;
    TextHparams hp;
    PromptProfile prompt;
    ggml_tensor * tok_embd = nullptr;
    std::vector<TextLayer> layers;
    ggml_tensor * out_norm = nullptr;
    ggml_tensor * out_norm_b = nullptr;
    ggml_tensor * output = nullptr;
    ggml_tensor * output_b = nullptr;
    std::optional<Tokenizer> tokenizer;  // from the same file's tokenizer.ggml.* keys

    MatmulWeights matmuls;  // where each matmul weight lives and which kernel multiplies it
    // ggml_gelu of every f16 value (gelu_table.h), when the vectorised fast GELU runs here; else empty.
    std::vector<float> gelu_table;
};

Result<std::unique_ptr<TextModel>> load_text_model(const std::string & path, const WeightPlacement & placement);

}  // namespace moondream
