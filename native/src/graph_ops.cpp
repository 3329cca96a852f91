#include "graph_ops.h"

#include <cmath>

namespace moondream {

ggml_tensor * layer_norm(ggml_context * ctx, ggml_tensor * x, ggml_tensor * weight, ggml_tensor * bias, float eps) {
    ggml_tensor * y = ggml_norm(ctx, x, eps);
    return ggml_add(ctx, ggml_mul(ctx, y, weight), bias);
}

ggml_tensor * linear(ggml_context * ctx, ggml_tensor * x, ggml_tensor * weight, ggml_tensor * bias) {
    ggml_tensor * y = ggml_mul_mat(ctx, weight, x);
    return bias != nullptr ? ggml_add(ctx, y, bias) : y;
}

ggml_tensor * gelu(ggml_context * ctx, ggml_tensor * x, Gelu flavour, bool exact) {
    if (flavour == Gelu::erf) return ggml_gelu_erf(ctx, x);
    if (!exact) return ggml_gelu(ctx, x);
    // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    const float k = std::sqrt(2.0f / float(M_PI));
    ggml_tensor * x3 = ggml_mul(ctx, ggml_sqr(ctx, x), x);
    ggml_tensor * inner = ggml_add(ctx, x, ggml_scale(ctx, x3, 0.044715f));
    ggml_tensor * t = ggml_tanh(ctx, ggml_scale(ctx, inner, k));
    return ggml_mul(ctx, x, ggml_scale_bias(ctx, t, 0.5f, 0.5f));
}

}  // namespace moondream
