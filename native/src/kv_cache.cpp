#include "kv_cache.h"

#include <cstring>

#include "ggml-alloc.h"

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
    // An anonymous mapping of our own, not the backend's allocator: its pages start as zeros, so
    // positions attention reads before they are written (it reads whole 256-position blocks, and
    // 0 x NaN from uninitialised memory would poison the sum) need no clearing, and only the pages
    // of positions actually used become resident (for a 2048-position cache used to ~800, about
    // 230 MB never are). In huge pages: a prompt's cache rows fault in 2 MiB at a time (a 4 KiB
    // fault of fresh memory costs about 10 us on our VMs), and decode's walk over them misses the
    // TLB far less (its attention read 148 MB in 5.4 ms instead of 7.8 ms, kernel_bench).
    const size_t alignment = ggml_backend_get_alignment(backend);
    size_t bytes = 0;
    for (ggml_tensor * t = ggml_get_first_tensor(cache->ctx_.get()); t != nullptr; t = ggml_get_next_tensor(cache->ctx_.get(), t)) {
        bytes += GGML_PAD(ggml_nbytes(t), alignment);
    }
    cache->memory_ = map_anonymous_huge(bytes);
    if (cache->memory_) cache->buffer_.reset(ggml_backend_cpu_buffer_from_ptr(cache->memory_.get(), bytes));
    if (!cache->buffer_) {
        return Error{ErrorCode::out_of_memory, "cannot allocate a KV cache of " + std::to_string(n_ctx) + " positions"};
    }
    ggml_tallocr placer = ggml_tallocr_new(cache->buffer_.get());
    for (ggml_tensor * t = ggml_get_first_tensor(cache->ctx_.get()); t != nullptr; t = ggml_get_next_tensor(cache->ctx_.get(), t)) {
        if (ggml_tallocr_alloc(&placer, t) != GGML_STATUS_SUCCESS) {
            return Error{ErrorCode::internal, "the KV cache's tensors do not fit its buffer"};
        }
    }
    return cache;
}

size_t KvCache::prefix_bytes(int n) const { return k_.size() * 2 * size_t(n_embd_) * size_t(n) * ggml_type_size(type_); }

KvSnapshot KvCache::save_prefix(int n, AnonymousPages storage) const {
    const size_t element = ggml_type_size(type_);
    const size_t row = size_t(n) * element;  // n positions of one value row, or one key position
    KvSnapshot snapshot;
    snapshot.positions = n;
    snapshot.size = prefix_bytes(n);
    snapshot.storage = std::move(storage);
    // A new snapshot (144 MB for an image prompt) in huge pages: into 4 KiB pages of fresh (and
    // first zeroed) heap memory the copy added 0.2-0.5 s to the next image's prefill on our VMs;
    // recycled storage costs only the copy.
    if (snapshot.capacity() < snapshot.size) snapshot.storage = map_anonymous_huge(snapshot.size);
    if (!snapshot.storage) return snapshot;
    uint8_t * out = snapshot.storage.get();
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
    const uint8_t * in = snapshot.storage.get();
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
