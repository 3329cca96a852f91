// Runs the text model: a CPU backend with its thread pool, the KV cache, and the graph allocator.
// One TextContext is one conversation's state; calls on it must be serialised by the caller.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "ggml-alloc.h"
#include "cpu_backend.h"
#include "ggml-backend.h"
#include "kv_cache.h"
#include "model.h"
#include "text_graph.h"

namespace moondream {

// A prompt entry that is not a token but the next row of caller-supplied embeddings (image rows).
constexpr int32_t kEmbeddingRow = -1;

struct TextContextParams {
    int n_ctx = 2048;
    ggml_type kv_type = GGML_TYPE_F16;
    int n_batch = 256;    // positions per prefill graph: as fast as 1024 here, a quarter of the compute buffers
    bool exact_gelu = false;
    bool flash_attention = true;
};

class TextContext {
public:
    static Result<std::unique_ptr<TextContext>> create(std::shared_ptr<const Model> model, const TextContextParams & params);
    ~TextContext();

    // Appends entries at the current position and writes the logits after the last one.
    // `entries[i] == kEmbeddingRow` takes the next n_embd floats from `rows`. Fails with
    // ERR_CONTEXT_OVERFLOW before any compute when the cache would overflow, ERR_ABORTED when
    // `abort` was raised (the entries of the aborted batch are then not part of the state).
    Status append(const std::vector<int32_t> & entries, const float * rows, std::vector<float> & logits,
                  const std::atomic<bool> * abort);

    int position() const { return n_past_; }
    void rewind(int position);  // forget everything after `position`
    void advance(int positions);  // positions restored into the KV cache by the caller
    int capacity() const { return kv_->capacity(); }
    const TextHparams & hparams() const { return model_->text->hp; }
    KvCache & kv() { return *kv_; }
    const KvCache & kv() const { return *kv_; }
    // Bytes of the graphs' compute buffers and their descriptions.
    size_t compute_bytes() const;

private:
    // A built and allocated graph with its own compute buffers, kept for the next call of the
    // same shape. Decode uses one slot and prefill the other, so neither evicts the other.
    struct GraphSlot {
        std::vector<uint8_t> memory;
        ggml_context_ptr ctx;
        ggml_gallocr_ptr allocator;
        TextGraph graph;
        int n_tokens = 0;
        int n_kv = 0;
        bool reusable = false;
    };

    TextContext() = default;
    Result<TextGraph *> graph_for(int n_tokens, int n_kv);
    Status run_batch(const int32_t * entries, int n, const float *& rows, std::vector<float> & logits, const std::atomic<bool> * abort);

    std::shared_ptr<const Model> model_;
    TextContextParams params_;
    std::unique_ptr<CpuBackend> cpu_;
    std::unique_ptr<KvCache> kv_;
    GraphSlot decode_slot_;
    GraphSlot batch_slot_;
    std::vector<float> embeddings_;
    int n_past_ = 0;
};

}  // namespace moondream
