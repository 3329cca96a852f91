#include "text_context.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "memory_pages.h"

namespace moondream {

namespace {

// mask [n_kv, n]: 0 where position j is visible to the batch's row i, -inf elsewhere.
void fill_causal_mask(ggml_tensor * mask_tensor, int n_past, int n, int n_kv) {
    std::vector<float> mask(size_t(n_kv) * size_t(n));
    for (int i = 0; i < n; ++i) {
        for (int j = 0; j < n_kv; ++j) mask[size_t(i) * size_t(n_kv) + size_t(j)] = j <= n_past + i ? 0.0f : -INFINITY;
    }
    if (mask_tensor->type == GGML_TYPE_F16) {
        std::vector<ggml_fp16_t> half(mask.size());
        ggml_fp32_to_fp16_row(mask.data(), half.data(), int64_t(mask.size()));
        ggml_backend_tensor_set(mask_tensor, half.data(), 0, half.size() * sizeof(ggml_fp16_t));
    } else {
        ggml_backend_tensor_set(mask_tensor, mask.data(), 0, mask.size() * sizeof(float));
    }
}

}  // namespace

Result<std::unique_ptr<TextContext>> TextContext::create(std::shared_ptr<const Model> model, const TextContextParams & params) {
    const TextHparams & hp = model->text->hp;
    if (params.n_ctx < 1 || params.n_ctx > hp.n_ctx_train) {
        return Error{ErrorCode::invalid_argument, "the context size must be between 1 and the model's " +
                                                      std::to_string(hp.n_ctx_train) + " positions, not " + std::to_string(params.n_ctx)};
    }
    if (params.kv_type != GGML_TYPE_F16 && params.kv_type != GGML_TYPE_F32) {
        return Error{ErrorCode::invalid_argument, "the KV cache type must be f16 or f32"};
    }
    std::unique_ptr<TextContext> context(new TextContext());
    context->model_ = std::move(model);
    context->params_ = params;
    context->params_.n_batch = std::max(1, params.n_batch);
    auto cpu = CpuBackend::create(context->model_->compute);
    if (!cpu.ok()) return cpu.error();
    context->cpu_ = std::move(cpu.value());
    auto kv = KvCache::create(hp.n_layer, hp.n_embd, params.n_ctx, params.kv_type, !params.flash_attention, context->cpu_->get());
    if (!kv.ok()) return kv.error();
    context->kv_ = std::move(kv.value());
    for (GraphSlot * slot : {&context->decode_slot_, &context->batch_slot_}) {
        slot->allocator.reset(ggml_gallocr_new(ggml_backend_get_default_buffer_type(context->cpu_->get())));
        slot->memory.resize(text_graph_context_size(*context->model_->text));
    }
    return context;
}

TextContext::~TextContext() = default;

size_t TextContext::compute_bytes() const {
    size_t bytes = 0;
    for (const GraphSlot * slot : {&decode_slot_, &batch_slot_}) {
        bytes += slot->memory.size() + ggml_gallocr_get_buffer_size(slot->allocator.get(), 0);
    }
    return bytes;
}

void TextContext::rewind(int position) { n_past_ = std::clamp(position, 0, n_past_); }

void TextContext::advance(int positions) { n_past_ = std::clamp(n_past_ + positions, 0, kv_->capacity()); }

Status TextContext::append(const std::vector<int32_t> & entries, const float * rows, std::vector<float> & logits,
                           const std::atomic<bool> * abort) {
    const TextHparams & hp = model_->text->hp;
    if (entries.empty()) return Error{ErrorCode::invalid_argument, "nothing to evaluate"};
    for (int32_t id : entries) {
        if (id == kEmbeddingRow) {
            if (rows == nullptr) return Error{ErrorCode::invalid_argument, "an embedding row was requested but none were given"};
        } else if (id < 0 || id >= hp.n_vocab) {
            return Error{ErrorCode::invalid_argument, "token id " + std::to_string(id) + " is outside the vocabulary (0.." +
                                                          std::to_string(hp.n_vocab - 1) + ")"};
        }
    }
    if (int64_t(n_past_) + int64_t(entries.size()) > kv_->capacity()) {
        return Error{ErrorCode::context_overflow, "the prompt needs " + std::to_string(n_past_ + int64_t(entries.size())) +
                                                      " positions but the context holds " + std::to_string(kv_->capacity())};
    }
    const int start = n_past_;
    const float * next_row = rows;
    for (size_t done = 0; done < entries.size();) {
        const int n = int(std::min<size_t>(size_t(params_.n_batch), entries.size() - done));
        if (Status status = run_batch(entries.data() + done, n, next_row, logits, abort)) {
            n_past_ = start;  // a failed append leaves the state as it was
            return status;
        }
        done += size_t(n);
    }
    // The prefill slot's compute buffer is sized for the longest batch so far (an image prompt
    // needs tens of MB) and is scratch: each run sets every input before it reads it. Decode,
    // which comes next, never touches it, so its pages go back to the system until the next prefill.
    if (entries.size() > 1 && batch_slot_.graph.logits != nullptr) {
        ggml_backend_buffer_t scratch = batch_slot_.graph.logits->buffer;
        release_pages(ggml_backend_buffer_get_base(scratch), ggml_backend_buffer_get_size(scratch));
    }
    return std::nullopt;
}

Result<TextGraph *> TextContext::graph_for(int n_tokens, int n_kv) {
    GraphSlot & slot = n_tokens == 1 ? decode_slot_ : batch_slot_;
    if (slot.reusable && slot.n_tokens == n_tokens && slot.n_kv == n_kv) return &slot.graph;
    slot.reusable = false;
    slot.ctx.reset(ggml_init({slot.memory.size(), slot.memory.data(), /*no_alloc =*/true}));
    slot.graph = build_text_graph(slot.ctx.get(), *model_->text, *kv_, n_past_, n_tokens, params_.exact_gelu);
    if (!ggml_gallocr_alloc_graph(slot.allocator.get(), slot.graph.graph)) {
        return Error{ErrorCode::out_of_memory, "cannot allocate the compute buffers for " + std::to_string(n_tokens) + " positions"};
    }
    // The prefill's buffer is handed back after every prompt (append) and faulted in again by the
    // next: in huge pages that costs milliseconds, not a tenth of a second.
    if (ggml_backend_buffer_t scratch = slot.graph.logits->buffer) advise_huge_pages(ggml_backend_buffer_get_base(scratch), ggml_backend_buffer_get_size(scratch));
    // The transposed-values layout writes the cache at n_past through views: rebuild every time.
    slot.reusable = slot.graph.cache_rows != nullptr;
    slot.n_tokens = n_tokens;
    slot.n_kv = n_kv;
    return &slot.graph;
}

Status TextContext::run_batch(const int32_t * entries, int n, const float *& rows, std::vector<float> & logits,
                              const std::atomic<bool> * abort) {
    const TextModel & text = *model_->text;
    const TextHparams & hp = text.hp;
    const size_t e = size_t(hp.n_embd);

    // Token rows come straight out of the (possibly quantized) embedding table.
    embeddings_.resize(size_t(n) * e);
    const ggml_type_traits * traits = ggml_get_type_traits(text.tok_embd->type);
    for (int i = 0; i < n; ++i) {
        float * out = embeddings_.data() + size_t(i) * e;
        if (entries[i] == kEmbeddingRow) {
            std::memcpy(out, rows, e * sizeof(float));
            rows += e;
        } else {
            const char * row = static_cast<const char *>(text.tok_embd->data) + size_t(entries[i]) * text.tok_embd->nb[1];
            if (text.tok_embd->type == GGML_TYPE_F32) {
                std::memcpy(out, row, e * sizeof(float));
            } else {
                traits->to_float(row, out, int64_t(e));
            }
        }
    }

    const int n_kv = attended_positions(n_past_, n, kv_->capacity());
    auto built = graph_for(n, n_kv);
    if (!built.ok()) return built.error();
    const TextGraph & graph = *built.value();

    ggml_backend_tensor_set(graph.embeddings, embeddings_.data(), 0, embeddings_.size() * sizeof(float));
    std::vector<int32_t> positions(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) positions[size_t(i)] = n_past_ + i;
    ggml_backend_tensor_set(graph.positions, positions.data(), 0, positions.size() * sizeof(int32_t));
    if (graph.cache_rows != nullptr) {
        std::vector<int64_t> rows_at(positions.begin(), positions.end());
        ggml_backend_tensor_set(graph.cache_rows, rows_at.data(), 0, rows_at.size() * sizeof(int64_t));
    }
    // Our prefill attention takes the causal mask from the positions: no node reads the mask then,
    // and the allocator gave it no memory.
    if (graph.mask->buffer != nullptr) fill_causal_mask(graph.mask, n_past_, n, n_kv);

    if (Status status = cpu_->compute(graph.graph, abort, n > 1 ? "prefill graph" : "decode graph")) return status;

    logits.resize(size_t(hp.n_vocab));
    ggml_backend_tensor_get(graph.logits, logits.data(), 0, logits.size() * sizeof(float));
    n_past_ += n;
    return std::nullopt;
}

}  // namespace moondream
