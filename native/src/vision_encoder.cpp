#include "vision_encoder.h"

#include "ggml-cpu.h"

namespace moondream {

namespace {

bool abort_requested(void * data) {
    const auto * flag = static_cast<const std::atomic<bool> *>(data);
    return flag != nullptr && flag->load(std::memory_order_relaxed);
}

}  // namespace

Result<std::unique_ptr<VisionEncoder>> VisionEncoder::create(std::shared_ptr<const Model> model, int n_threads) {
    if (!model->vision) return Error{ErrorCode::invalid_argument, "this model was loaded without its mmproj file, so it cannot encode images"};
    std::unique_ptr<VisionEncoder> encoder(new VisionEncoder());
    encoder->model_ = std::move(model);
    encoder->backend_.reset(ggml_backend_cpu_init());
    if (!encoder->backend_) return Error{ErrorCode::internal, "cannot start ggml's CPU backend"};
    encoder->set_threads(n_threads);
    const VisionModel & vision = *encoder->model_->vision;
    encoder->graph_memory_.resize(vision_graph_context_size(vision));
    ggml_init_params init = {encoder->graph_memory_.size(), encoder->graph_memory_.data(), /*no_alloc =*/true};
    encoder->graph_ctx_.reset(ggml_init(init));
    encoder->graph_ = build_vision_graph(encoder->graph_ctx_.get(), vision);
    encoder->allocator_.reset(ggml_gallocr_new(ggml_backend_get_default_buffer_type(encoder->backend_.get())));
    if (!ggml_gallocr_alloc_graph(encoder->allocator_.get(), encoder->graph_.graph)) {
        return Error{ErrorCode::out_of_memory, "cannot allocate the vision encoder's compute buffers"};
    }
    return encoder;
}

void VisionEncoder::set_threads(int n_threads) {
    ggml_backend_cpu_set_n_threads(backend_.get(), n_threads > 0 ? n_threads : physical_core_count());
}

Status VisionEncoder::encode(const float * pixels, std::vector<float> & embeddings, const std::atomic<bool> * abort) {
    const VisionHparams & hp = model_->vision->hp;
    patches_.resize(size_t(3) * size_t(hp.image_size) * size_t(hp.image_size));
    patchify(pixels, hp.image_size, hp.patch_size, patches_.data());
    ggml_backend_tensor_set(graph_.patches, patches_.data(), 0, patches_.size() * sizeof(float));

    ggml_backend_cpu_set_abort_callback(backend_.get(), abort_requested, const_cast<std::atomic<bool> *>(abort));
    const ggml_status status = ggml_backend_graph_compute(backend_.get(), graph_.graph);
    ggml_backend_cpu_set_abort_callback(backend_.get(), nullptr, nullptr);
    if (status == GGML_STATUS_ABORTED || abort_requested(const_cast<std::atomic<bool> *>(abort))) {
        return Error{ErrorCode::aborted, "aborted"};
    }
    if (status != GGML_STATUS_SUCCESS) return Error{ErrorCode::internal, "ggml failed to compute the vision graph"};
    embeddings.resize(size_t(ggml_nelements(graph_.embeddings)));
    ggml_backend_tensor_get(graph_.embeddings, embeddings.data(), 0, embeddings.size() * sizeof(float));
    return std::nullopt;
}

}  // namespace moondream
