#include "vision_model.h"

#include <algorithm>

#include "gguf_names.h"
#include "profile.h"
#include "tensor_names.h"
#include "try.h"

namespace moondream {

namespace {

namespace general_keys = gguf::general_keys;
namespace vision_keys = gguf::vision_keys;
namespace vision_tensors = gguf::vision_tensors;

Result<VisionHparams> read_vision_hparams(const WeightFile & file) {
    const GgufKeys & keys = file.keys();
    MD_ASSIGN_OR_RETURN(std::string arch, keys.string(general_keys::architecture));
    if (arch != gguf::values::vision_architecture) {
        return keys.error(general_keys::architecture, "is \"" + arch + "\", expected \"" + gguf::values::vision_architecture + "\" (a moondream mmproj)");
    }
    const std::string projector_key = keys.has(vision_keys::projector_type) ? vision_keys::projector_type : vision_keys::legacy_projector_type;
    MD_ASSIGN_OR_RETURN(std::string projector, keys.string_or(projector_key, gguf::values::projector_type));
    if (projector != gguf::values::projector_type) {
        return keys.error(projector_key, "is \"" + projector + "\"; moondream's projector is \"" + gguf::values::projector_type + "\"");
    }
    MD_ASSIGN_OR_RETURN(const bool has_vision, keys.boolean_or(vision_keys::has_vision_encoder, true));
    if (!has_vision) return keys.error(vision_keys::has_vision_encoder, "is false");

    VisionHparams hp;
    MD_ASSIGN_OR_RETURN(hp.image_size, keys.integer(vision_keys::image_size, 1, 4096));
    MD_ASSIGN_OR_RETURN(hp.patch_size, keys.integer(vision_keys::patch_size, 1, hp.image_size));
    if (hp.image_size % hp.patch_size != 0) return keys.error(vision_keys::patch_size, std::string("does not divide ") + vision_keys::image_size);
    MD_ASSIGN_OR_RETURN(hp.n_embd, keys.integer(vision_keys::embedding_length, 1, 65536));
    MD_ASSIGN_OR_RETURN(hp.n_ff, keys.integer(vision_keys::feed_forward_length, 1, 1 << 20));
    MD_ASSIGN_OR_RETURN(hp.n_head, keys.integer(vision_keys::head_count, 1, hp.n_embd));
    if (hp.n_embd % hp.n_head != 0) return keys.error(vision_keys::head_count, "does not divide embedding_length");
    MD_ASSIGN_OR_RETURN(const double eps, keys.number(vision_keys::layer_norm_epsilon));
    if (!(eps > 0 && eps < 1)) return keys.error(vision_keys::layer_norm_epsilon, "must be in (0, 1)");
    hp.norm_eps = float(eps);
    MD_ASSIGN_OR_RETURN(hp.n_block_file, keys.integer(vision_keys::block_count, 1, 1024));
    if (keys.has(vision_keys::feature_layer)) {
        // llama.cpp's rule: run up to the deepest requested layer.
        MD_ASSIGN_OR_RETURN(const std::vector<int64_t> layers, keys.integers(vision_keys::feature_layer));
        if (layers.empty()) return keys.error(vision_keys::feature_layer, "is empty");
        const int64_t deepest = *std::max_element(layers.begin(), layers.end());
        if (deepest < 1 || deepest > hp.n_block_file) return keys.error(vision_keys::feature_layer, "names a block the file does not have");
        hp.n_block_run = int(deepest);
    } else {
        // The llava convention of legacy mmproj files: the last stored block is not run.
        if (hp.n_block_file < 2) return keys.error(vision_keys::block_count, std::string("must be at least 2 without ") + vision_keys::feature_layer);
        hp.n_block_run = hp.n_block_file - 1;
    }
    for (const char * key : {vision_keys::image_mean, vision_keys::image_std}) {
        MD_ASSIGN_OR_RETURN(const std::vector<double> values, keys.numbers(key));
        if (values.size() < 3) return keys.error(key, "needs 3 values");
        float * out = std::string(key) == vision_keys::image_mean ? hp.mean : hp.std;
        for (int c = 0; c < 3; ++c) {
            if (!(values[size_t(c)] > -1e6 && values[size_t(c)] < 1e6)) return keys.error(key, "holds an impossible value");
            out[c] = float(values[size_t(c)]);
        }
    }
    for (float s : hp.std) {
        if (!(s > 0)) return keys.error(vision_keys::image_std, "must be positive");
    }
    return hp;
}

}  // namespace

Result<std::unique_ptr<VisionModel>> load_vision_model(const std::string & path, const WeightPlacement & placement) {
    MD_ASSIGN_OR_RETURN(std::unique_ptr<WeightFile> file, WeightFile::open(path));
    auto model = std::make_unique<VisionModel>();
    MD_ASSIGN_OR_RETURN(model->hp, read_vision_hparams(*file));
    MD_ASSIGN_OR_RETURN(model->profile, read_vision_profile(file->keys()));
    VisionHparams & hp = model->hp;
    const WeightFile & f = *file;
    const int64_t e = hp.n_embd;
    const int64_t p = hp.patch_size;
    const int64_t n_patches = (hp.image_size / p) * (hp.image_size / p);

    // Legacy converters stored fc1 as ffn_down and fc2 as ffn_up; tell them apart by shape, as llama.cpp does.
    const ggml_tensor * down = f.peek(weight_name(vision_tensors::ffn_down, 0));
    hp.ffn_names_swapped = down != nullptr && down->ne[0] == e && down->ne[1] == hp.n_ff && e != hp.n_ff;
    const char * fc1 = hp.ffn_names_swapped ? vision_tensors::ffn_down : vision_tensors::ffn_up;
    const char * fc2 = hp.ffn_names_swapped ? vision_tensors::ffn_up : vision_tensors::ffn_down;

    MD_ASSIGN_OR_RETURN(model->patch, f.tensor(weight_name(vision_tensors::patch_embd), {p, p, 3, e}, TensorUse::dense));
    MD_ASSIGN_OR_RETURN(model->patch_b, f.tensor(bias_name(vision_tensors::patch_embd), {e}, TensorUse::vector));
    MD_ASSIGN_OR_RETURN(model->position, f.tensor(weight_name(vision_tensors::position_embd), {e, n_patches}, TensorUse::dense));
    model->layers.resize(size_t(hp.n_block_run));
    for (int i = 0; i < hp.n_block_run; ++i) {
        VisionLayer & l = model->layers[size_t(i)];
        MD_ASSIGN_OR_RETURN(l.ln1, f.tensor(weight_name(vision_tensors::ln1, i), {e}, TensorUse::vector));
        MD_ASSIGN_OR_RETURN(l.ln1_b, f.tensor(bias_name(vision_tensors::ln1, i), {e}, TensorUse::vector));
        MD_ASSIGN_OR_RETURN(l.q, f.tensor(weight_name(vision_tensors::attn_q, i), {e, e}, TensorUse::matrix));
        MD_ASSIGN_OR_RETURN(l.q_b, f.tensor(bias_name(vision_tensors::attn_q, i), {e}, TensorUse::vector));
        MD_ASSIGN_OR_RETURN(l.k, f.tensor(weight_name(vision_tensors::attn_k, i), {e, e}, TensorUse::matrix));
        MD_ASSIGN_OR_RETURN(l.k_b, f.tensor(bias_name(vision_tensors::attn_k, i), {e}, TensorUse::vector));
        MD_ASSIGN_OR_RETURN(l.v, f.tensor(weight_name(vision_tensors::attn_v, i), {e, e}, TensorUse::matrix));
        MD_ASSIGN_OR_RETURN(l.v_b, f.tensor(bias_name(vision_tensors::attn_v, i), {e}, TensorUse::vector));
        MD_ASSIGN_OR_RETURN(l.attn_out, f.tensor(weight_name(vision_tensors::attn_out, i), {e, e}, TensorUse::matrix));
        MD_ASSIGN_OR_RETURN(l.attn_out_b, f.tensor(bias_name(vision_tensors::attn_out, i), {e}, TensorUse::vector));
        MD_ASSIGN_OR_RETURN(l.ln2, f.tensor(weight_name(vision_tensors::ln2, i), {e}, TensorUse::vector));
        MD_ASSIGN_OR_RETURN(l.ln2_b, f.tensor(bias_name(vision_tensors::ln2, i), {e}, TensorUse::vector));
        MD_ASSIGN_OR_RETURN(l.fc1, f.tensor(weight_name(fc1, i), {e, hp.n_ff}, TensorUse::matrix));
        MD_ASSIGN_OR_RETURN(l.fc1_b, f.tensor(bias_name(fc1, i), {hp.n_ff}, TensorUse::vector));
        MD_ASSIGN_OR_RETURN(l.fc2, f.tensor(weight_name(fc2, i), {hp.n_ff, e}, TensorUse::matrix));
        MD_ASSIGN_OR_RETURN(l.fc2_b, f.tensor(bias_name(fc2, i), {e}, TensorUse::vector));
    }
    MD_ASSIGN_OR_RETURN(model->post_ln, f.tensor(weight_name(vision_tensors::post_ln), {e}, TensorUse::vector));
    MD_ASSIGN_OR_RETURN(model->post_ln_b, f.tensor(bias_name(vision_tensors::post_ln), {e}, TensorUse::vector));

    const ggml_tensor * mm0 = f.peek(weight_name(vision_tensors::mm0));
    const ggml_tensor * mm2 = f.peek(weight_name(vision_tensors::mm2));
    if (mm0 == nullptr || mm2 == nullptr) {
        return Error{ErrorCode::model_format, "'" + path + "' has no " + vision_tensors::mm0 + " / " + vision_tensors::mm2 + " projector tensors"};
    }
    if (f.has(weight_name(vision_tensors::mm3))) {
        return Error{ErrorCode::model_format, "'" + path + "' has an " + vision_tensors::mm3 + " layer norm: not moondream's plain MLP projector"};
    }
    hp.n_proj_inner = int(std::min<int64_t>(mm0->ne[1], 1 << 20));
    hp.n_proj_out = int(std::min<int64_t>(mm2->ne[1], 1 << 20));
    MD_ASSIGN_OR_RETURN(model->mm0, f.tensor(weight_name(vision_tensors::mm0), {e, hp.n_proj_inner}, TensorUse::matrix));
    MD_ASSIGN_OR_RETURN(model->mm0_b, f.tensor(bias_name(vision_tensors::mm0), {hp.n_proj_inner}, TensorUse::vector));
    MD_ASSIGN_OR_RETURN(model->mm2, f.tensor(weight_name(vision_tensors::mm2), {hp.n_proj_inner, hp.n_proj_out}, TensorUse::matrix));
    MD_ASSIGN_OR_RETURN(model->mm2_b, f.tensor(bias_name(vision_tensors::mm2), {hp.n_proj_out}, TensorUse::vector));

    std::vector<ggml_tensor *> matmul_weights = {model->mm0, model->mm2};
    for (const VisionLayer & l : model->layers) {
        matmul_weights.insert(matmul_weights.end(), {l.q, l.k, l.v, l.attn_out, l.fc1, l.fc2});
    }
    MD_RETURN_IF_ERROR(model->matmuls.place(*file, matmul_weights, placement));
    for (const VisionLayer & l : model->layers) model->matmuls.stack({l.q, l.k, l.v});
    model->file = std::move(file);
    return model;
}

}  // namespace moondream
