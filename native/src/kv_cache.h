// The text model's key/value cache: per layer, keys as rows [n_embd, n_ctx]; values the same way
// for flash attention, or transposed [n_ctx, n_embd] so plain attention multiplies them without
// copies.
#pragma once

#include <vector>

#include "ggml-backend.h"
#include "ggml-cpp.h"
#include "memory_pages.h"
#include "moondream.h"

namespace moondream {

// The first `positions` entries of every layer's keys and values, for prefix reuse.
struct KvSnapshot {
    int positions = 0;
    std::vector<uint8_t> bytes;
};

class KvCache {
public:
    static Result<std::unique_ptr<KvCache>> create(int n_layer, int n_embd, int n_ctx, ggml_type type, bool values_transposed,
                                                   ggml_backend_t backend);

    int capacity() const { return n_ctx_; }
    size_t bytes() const { return ggml_backend_buffer_get_size(buffer_.get()); }
    ggml_type type() const { return type_; }
    bool values_transposed() const { return values_transposed_; }
    ggml_tensor * keys(int layer) const { return k_[size_t(layer)]; }
    ggml_tensor * values(int layer) const { return v_[size_t(layer)]; }

    KvSnapshot save_prefix(int n) const;
    void restore_prefix(const KvSnapshot & snapshot);

private:
    int n_ctx_ = 0;
    int n_embd_ = 0;
    ggml_type type_ = GGML_TYPE_F16;
    bool values_transposed_ = true;
    ggml_context_ptr ctx_;
    AnonymousPages memory_;  // declared before buffer_, which only points into it
    ggml_backend_buffer_ptr buffer_;
    std::vector<ggml_tensor *> k_;
    std::vector<ggml_tensor *> v_;
};

}  // namespace moondream
