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

// The first `positions` entries of every layer's keys and values, for prefix reuse. Held in an
// anonymous mapping of our own (see save_prefix), whose capacity may exceed `size`.
struct KvSnapshot {
    int positions = 0;
    size_t size = 0;
    AnonymousPages storage;
    size_t capacity() const { return storage ? storage.get_deleter().bytes : 0; }
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

    // Bytes of a snapshot of the first n positions.
    size_t prefix_bytes(int n) const;
    // Copies the first n positions into `storage` when it holds prefix_bytes(n), else into new
    // memory. A snapshot without storage means the system refused the memory.
    KvSnapshot save_prefix(int n, AnonymousPages storage = {}) const;
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
