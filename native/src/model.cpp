#include "model.h"

#include "cpu_backend.h"
#include "gelu_table.h"
#include "try.h"

namespace moondream {

Result<std::shared_ptr<Model>> load_model(const LoadParams & params) {
    if (params.text_path.empty()) return Error{ErrorCode::invalid_argument, "no text model path given"};
    auto model = std::make_shared<Model>();
    MD_ASSIGN_OR_RETURN(model->compute, ComputePool::create(params.n_threads, params.profile_ops));
    model->release_vision_weights = params.release_vision_weights;
    const WeightPlacement placement = weight_placement(params);
    MD_ASSIGN_OR_RETURN(model->text, load_text_model(params.text_path, placement));
    if (gelu_table_supported()) {
        MD_ASSIGN_OR_RETURN(std::unique_ptr<CpuBackend> cpu, CpuBackend::create(model->compute));
        MD_ASSIGN_OR_RETURN(model->text->gelu_table,
                            compute_gelu_table([&](ggml_cgraph * graph) { return cpu->compute(graph, nullptr, "GELU table"); }));
    }
    if (!params.mmproj_path.empty()) {
        MD_ASSIGN_OR_RETURN(model->vision, load_vision_model(params.mmproj_path, placement));
        const int text_width = model->text->hp.n_embd;
        if (model->vision->hp.n_proj_out != text_width) {
            return Error{ErrorCode::model_format, "'" + params.mmproj_path + "' projects images to " +
                                                      std::to_string(model->vision->hp.n_proj_out) + " values but the text model '" +
                                                      params.text_path + "' embeds " + std::to_string(text_width) +
                                                      ": the files are not a pair"};
        }
    }
    return model;
}

std::vector<OpTime> take_op_profile(Model & model) { return model.compute->take_op_profile(); }

int model_width(const Model & model) { return model.text->hp.n_embd; }

const Tokenizer & model_tokenizer(const Model & model) { return *model.text->tokenizer; }

ModelInfo describe_model(const Model & model) {
    ModelInfo info;
    info.text = model.text->hp;
    info.prompt = model.text->prompt;
    info.mapped_bytes = model.text->file->mapped_bytes();
    info.repacked_bytes = model.text->file->repacked_bytes() + model.text->matmuls.packed_bytes();
    info.threads = model.compute->threads();
    info.text_packed_cache = model.text->matmuls.packed_cache_use();
    if (model.vision) {
        info.has_vision = true;
        info.vision = model.vision->hp;
        info.vision_profile = model.vision->profile;
        info.mapped_bytes += model.vision->file->mapped_bytes();
        info.repacked_bytes += model.vision->file->repacked_bytes() + model.vision->matmuls.packed_bytes();
        info.vision_compute_bytes = model.vision_encoder.compute_bytes.load();
        info.vision_packed_cache = model.vision->matmuls.packed_cache_use();
    }
    return info;
}

}  // namespace moondream
