#include "kv_cache.h"

#include <cstring>

namespace moondream {

Result<std::unique_ptr<KvCache>> KvCache::create(int n_layer, int n_embd, int n_ctx, ggml_type type, ggml_backend_t backend) {
    auto cache = std::make_unique<KvCache>();
    cache->n_ctx_ = n_ctx;
    cache->n_embd_ = n_embd;
    cache->type_ = type;
    ggml_init_params params = {/*mem_size =*/size_t(2 * n_layer + 1) * ggml_tensor_overhead(), /*mem_buffer =*/nullptr, /*no_alloc =*/true};
    cache->ctx_.reset(ggml_init(params));
    if (!cache->ctx_) return Error{ErrorCode::out_of_memory, "cannot create the KV cache context"};
    for (int il = 0; il < n_layer; ++il) {
        cache->k_.push_back(ggml_new_tensor_2d(cache->ctx_.get(), type, n_embd, n_ctx));
        cache->v_.push_back(ggml_new_tensor_2d(cache->ctx_.get(), type, n_ctx, n_embd));
    }
    cache->buffer_.reset(ggml_backend_alloc_ctx_tensors(cache->ctx_.get(), backend));
    if (!cache->buffer_) {
        return Error{ErrorCode::out_of_memory, "cannot allocate a KV cache of " + std::to_string(n_ctx) + " positions"};
    }
    ggml_backend_buffer_clear(cache->buffer_.get(), 0);
    return cache;
}

size_t KvCache::bytes() const { return buffer_ ? ggml_backend_buffer_get_size(buffer_.get()) : 0; }

void KvCache::copy_prefix_from(const KvCache & other, int n) {
    const size_t element = ggml_type_size(type_);
    for (size_t il = 0; il < k_.size(); ++il) {
        // Keys: the first n rows are contiguous.
        std::memcpy(k_[il]->data, other.k_[il]->data, size_t(n) * size_t(n_embd_) * element);
        // Values are transposed: the first n entries of each of the n_embd rows.
        for (int row = 0; row < n_embd_; ++row) {
            std::memcpy(static_cast<char *>(v_[il]->data) + size_t(row) * v_[il]->nb[1],
                        static_cast<const char *>(other.v_[il]->data) + size_t(row) * other.v_[il]->nb[1], size_t(n) * element);
        }
    }
}

}  // namespace moondream
