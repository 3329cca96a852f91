#include "kv_cache.h"

#include <cstring>

namespace moondream {

Result<std::unique_ptr<KvCache>> KvCache::create(int n_layer, int n_embd, int n_ctx, ggml_type type, bool values_transposed,
                                                 ggml_backend_t backend) {
    auto cache = std::make_unique<KvCache>();
    cache->n_ctx_ = n_ctx;
    cache->n_embd_ = n_embd;
    cache->type_ = type;
    cache->values_transposed_ = values_transposed;
    ggml_init_params params = {/*mem_size =*/size_t(2 * n_layer + 1) * ggml_tensor_overhead(), /*mem_buffer =*/nullptr, /*no_alloc =*/true};
    cache->ctx_.reset(ggml_init(params));
    if (!cache->ctx_) return Error{ErrorCode::out_of_memory, "cannot create the KV cache context"};
    for (int il = 0; il < n_layer; ++il) {
        cache->k_.push_back(ggml_new_tensor_2d(cache->ctx_.get(), type, n_embd, n_ctx));
        cache->v_.push_back(values_transposed ? ggml_new_tensor_2d(cache->ctx_.get(), type, n_ctx, n_embd)
                                              : ggml_new_tensor_2d(cache->ctx_.get(), type, n_embd, n_ctx));
    }
    cache->buffer_.reset(ggml_backend_alloc_ctx_tensors(cache->ctx_.get(), backend));
    if (!cache->buffer_) {
        return Error{ErrorCode::out_of_memory, "cannot allocate a KV cache of " + std::to_string(n_ctx) + " positions"};
    }
    // Not cleared here: positions are zeroed as attention first reaches them (zero_positions), so
    // the pages of a 2048-position cache used to ~800 never become resident (about 230 MB).
    return cache;
}

void KvCache::zero_positions(int from, int to) {
    if (to <= from) return;
    const size_t element = ggml_type_size(type_);
    for (size_t il = 0; il < k_.size(); ++il) {
        std::memset(static_cast<char *>(k_[il]->data) + size_t(from) * k_[il]->nb[1], 0, size_t(to - from) * k_[il]->nb[1]);
        if (!values_transposed_) {
            std::memset(static_cast<char *>(v_[il]->data) + size_t(from) * v_[il]->nb[1], 0, size_t(to - from) * v_[il]->nb[1]);
            continue;
        }
        for (int r = 0; r < n_embd_; ++r) {
            std::memset(static_cast<char *>(v_[il]->data) + size_t(r) * v_[il]->nb[1] + size_t(from) * element, 0, size_t(to - from) * element);
        }
    }
}

KvSnapshot KvCache::save_prefix(int n) const {
    const size_t element = ggml_type_size(type_);
    const size_t row = size_t(n) * element;  // n positions of one value row, or one key position
    KvSnapshot snapshot;
    snapshot.positions = n;
    snapshot.bytes.resize(k_.size() * 2 * size_t(n_embd_) * row);
    uint8_t * out = snapshot.bytes.data();
    for (size_t il = 0; il < k_.size(); ++il) {
        // Keys: the first n rows are contiguous.
        std::memcpy(out, k_[il]->data, size_t(n_embd_) * row);
        out += size_t(n_embd_) * row;
        if (!values_transposed_) {
            std::memcpy(out, v_[il]->data, size_t(n_embd_) * row);
            out += size_t(n_embd_) * row;
            continue;
        }
        // Transposed values: the first n entries of each of the n_embd rows.
        for (int r = 0; r < n_embd_; ++r) {
            std::memcpy(out, static_cast<const char *>(v_[il]->data) + size_t(r) * v_[il]->nb[1], row);
            out += row;
        }
    }
    return snapshot;
}

void KvCache::restore_prefix(const KvSnapshot & snapshot) {
    const size_t element = ggml_type_size(type_);
    const size_t row = size_t(snapshot.positions) * element;
    const uint8_t * in = snapshot.bytes.data();
    for (size_t il = 0; il < k_.size(); ++il) {
        std::memcpy(k_[il]->data, in, size_t(n_embd_) * row);
        in += size_t(n_embd_) * row;
        if (!values_transposed_) {
            std::memcpy(v_[il]->data, in, size_t(n_embd_) * row);
            in += size_t(n_embd_) * row;
            continue;
        }
        for (int r = 0; r < n_embd_; ++r) {
            std::memcpy(static_cast<char *>(v_[il]->data) + size_t(r) * v_[il]->nb[1], in, row);
            in += row;
        }
    }
}

}  // namespace moondream
