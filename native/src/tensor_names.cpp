#include "tensor_names.h"

#include "gguf_names.h"

namespace moondream {

namespace {

std::string with_suffix(std::string base, const char * suffix) { return base + suffix; }

std::string for_layer(const char * base, int layer) {
    std::string name = base;
    const std::string placeholder = gguf::layer_placeholder;
    const size_t at = name.find(placeholder);
    if (at != std::string::npos) name.replace(at, placeholder.size(), std::to_string(layer));
    return name;
}

}  // namespace

std::string weight_name(const char * base) { return with_suffix(base, gguf::tensor_suffixes::weight); }
std::string bias_name(const char * base) { return with_suffix(base, gguf::tensor_suffixes::bias); }
std::string weight_name(const char * base, int layer) { return with_suffix(for_layer(base, layer), gguf::tensor_suffixes::weight); }
std::string bias_name(const char * base, int layer) { return with_suffix(for_layer(base, layer), gguf::tensor_suffixes::bias); }

}  // namespace moondream
