// Opening a GGUF file safely: our own checks of the fixed header, ggml's gguf reader, then our
// checks of every tensor's shape and extent against the file. Whatever passes can be handed to
// ggml without tripping one of its asserts.
#pragma once

#include <cstdint>
#include <string>

#include "ggml-cpp.h"
#include "gguf.h"
#include "moondream.h"

namespace moondream {

struct GgufFile {
    gguf_context_ptr gguf;
    ggml_context_ptr meta;  // tensor descriptions (no data), only when asked for
    uint64_t file_size = 0;
};

// `with_tensors`: also create a no_alloc ggml context holding one ggml_tensor per GGUF tensor.
Result<GgufFile> open_gguf(const std::string & path, bool with_tensors);

}  // namespace moondream
