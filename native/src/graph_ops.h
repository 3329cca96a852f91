// Small graph-building pieces shared by the text and vision graphs.
#pragma once

#include "ggml.h"
#include "moondream.h"

namespace moondream {

// LayerNorm with affine weight and bias.
ggml_tensor * layer_norm(ggml_context * ctx, ggml_tensor * x, ggml_tensor * weight, ggml_tensor * bias, float eps);

// x W^T + b for a weight stored as ggml [in, out].
ggml_tensor * linear(ggml_context * ctx, ggml_tensor * x, ggml_tensor * weight, ggml_tensor * bias);

// GELU. `Gelu::erf` is exact; `Gelu::tanh` is the tanh approximation computed in f32 when
// `exact` (PyTorch's gelu_new), or with ggml's f16 lookup table otherwise (what llama.cpp does).
ggml_tensor * gelu(ggml_context * ctx, ggml_tensor * x, Gelu flavour, bool exact);

}  // namespace moondream
