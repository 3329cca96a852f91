// Full GGUF tensor names from the table's bases (gguf_names.h): "blk.{layer}.attn_qkv", block 3,
// "weight" -> "blk.3.attn_qkv.weight".
#pragma once

#include <string>

namespace moondream {

// `base` without a {layer} placeholder (token_embd, v.post_ln, mm.0, ...).
std::string weight_name(const char * base);
std::string bias_name(const char * base);
// `base` with one {layer} placeholder, filled with `layer`.
std::string weight_name(const char * base, int layer);
std::string bias_name(const char * base, int layer);

}  // namespace moondream
