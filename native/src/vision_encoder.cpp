#include "vision_encoder.h"

#include "memory_pages.h"

namespace moondream {

Result<std::unique_ptr<VisionEncoder>> VisionEncoder::create(const VisionModel & vision, std::shared_ptr<ComputePool> pool,
                                                             bool release_weights) {
    std::unique_ptr<VisionEncoder> encoder(new VisionEncoder());
    encoder->vision_ = &vision;
    encoder->release_weights_ = release_weights;
    auto cpu = CpuBackend::create(std::move(pool));
    if (!cpu.ok()) return cpu.error();
    encoder->cpu_ = std::move(cpu.value());
    encoder->graph_memory_.resize(vision_graph_context_size(vision));
    ggml_init_params init = {encoder->graph_memory_.size(), encoder->graph_memory_.data(), /*no_alloc =*/true};
    encoder->graph_ctx_.reset(ggml_init(init));
    encoder->graph_ = build_vision_graph(encoder->graph_ctx_.get(), vision);
    encoder->allocator_.reset(ggml_gallocr_new(ggml_backend_get_default_buffer_type(encoder->cpu_->get())));
    if (!ggml_gallocr_alloc_graph(encoder->allocator_.get(), encoder->graph_.graph)) {
        return Error{ErrorCode::out_of_memory, "cannot allocate the vision encoder's compute buffers"};
    }
    // Handed back after every encode (below) and faulted in again by the next: in huge pages.
    ggml_backend_buffer_t scratch = encoder->graph_.embeddings->buffer;
    advise_huge_pages(ggml_backend_buffer_get_base(scratch), ggml_backend_buffer_get_size(scratch));
    return encoder;
}

Status VisionEncoder::encode(const float * pixels, std::vector<float> & embeddings, const std::atomic<bool> * abort) {
    const VisionHparams & hp = vision_->hp;
    patches_.resize(size_t(3) * size_t(hp.image_size) * size_t(hp.image_size));
    patchify(pixels, hp.image_size, hp.patch_size, patches_.data());
    ggml_backend_tensor_set(graph_.patches, patches_.data(), 0, patches_.size() * sizeof(float));
    fill_key_mask(graph_, graph_.patches->ne[1], key_mask_);

    Status status = cpu_->compute(graph_.graph, abort, "vision graph");
    if (!status) {
        embeddings.resize(size_t(ggml_nelements(graph_.embeddings)));
        ggml_backend_tensor_get(graph_.embeddings, embeddings.data(), 0, embeddings.size() * sizeof(float));
    }
    // Every tensor in the compute buffer is written before it is read (the patches above, the
    // rest by the graph), so between encodes its ~80 MB need not stay resident: the text model's
    // answer, which follows, then runs on that much less memory. Faulting the zero pages back in
    // costs the next encode a few milliseconds of its seconds.
    ggml_backend_buffer_t scratch = graph_.embeddings->buffer;
    release_pages(ggml_backend_buffer_get_base(scratch), ggml_backend_buffer_get_size(scratch));
    // The mmproj's mapped weights (879 MB for moondream1's f16 file) are not read again until the
    // next encode, but mapping them back is not cheap: on the Zen 5 VM, 2.42 s against 2.22 s an
    // encode in a loaded model (the faults of 215,000 pages, and zapping them here). So they stay
    // mapped unless the user trades that time for memory (peak RSS answering, q4_0 + f16 pair:
    // about 1,650 MiB released, 1,900 kept; the files are 1,629 MiB).
    if (release_weights_) vision_->file->release_all_mapped();
    return status;
}

}  // namespace moondream

namespace moondream {

size_t VisionEncoder::compute_bytes() const {
    return graph_memory_.size() + ggml_gallocr_get_buffer_size(allocator_.get(), 0);
}

}  // namespace moondream
