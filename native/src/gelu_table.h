// ggml's fast GELU (ggml_gelu: the input rounded to f16, looked up in a table of 65,536 f16
// values; 0 below -10, the input above 10), vectorised with AVX-512 gathers. ggml does it one
// element at a time, 0.6 s of an image prefill; this gives the same values bit for bit, because
// the table is ggml's own: built at load by running ggml_gelu over every f16 value.
#pragma once

#include <functional>
#include <vector>

#include "ggml.h"
#include "moondream.h"
#include "moondream_cpu.h"

namespace moondream {

// Whether gelu_from_table() runs here (AVX-512 allowed by MOONDREAM_CPU_LEVEL;
// MOONDREAM_DISABLE_GELU_TABLE=1 says no).
bool gelu_table_supported();
// Whether this process uses it at all, and why.
KernelReport gelu_table_cpu_choice();

// ggml_gelu of every f16 bit pattern, as f32, computed by ggml through `compute` (which runs a
// graph on the model's CPU backend).
Result<std::vector<float>> compute_gelu_table(const std::function<Status(ggml_cgraph *)> & compute);

// ggml_gelu(x) for f32 x, from `table` (compute_gelu_table's; must outlive the graph).
ggml_tensor * gelu_from_table(ggml_context * ctx, ggml_tensor * x, const std::vector<float> & table);

}  // namespace moondream
