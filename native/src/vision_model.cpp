#include "vision_model.h"

#include <algorithm>

#include "profile.h"
#include "try.h"

namespace moondream {

namespace {

Result<VisionHparams> read_vision_hparams(const WeightFile & file) {
    const GgufKeys & keys = file.keys();
    MD_ASSIGN_OR_RETURN(std::string arch, keys.string("general.architecture"));
    if (arch != "clip") return keys.error("general.architecture", "is \"" + arch + "\", expected \"clip\" (a moondream mmproj)");
    const std::string projector_key = keys.has("clip.projector_type") ? "clip.projector_type" : "clip.vision.projector_type";
    MD_ASSIGN_OR_RETURN(std::string projector, keys.string_or(projector_key, "mlp"));
    if (projector != "mlp") return keys.error(projector_key, "is \"" + projector + "\"; moondream's projector is \"mlp\"");
    MD_ASSIGN_OR_RETURN(const bool has_vision, keys.boolean_or("clip.has_vision_encoder", true));
    if (!has_vision) return keys.error("clip.has_vision_encoder", "is false");

    VisionHparams hp;
    MD_ASSIGN_OR_RETURN(hp.image_size, keys.integer("clip.vision.image_size", 1, 4096));
    MD_ASSIGN_OR_RETURN(hp.patch_size, keys.integer("clip.vision.patch_size", 1, hp.image_size));
    if (hp.image_size % hp.patch_size != 0) return keys.error("clip.vision.patch_size", "does not divide clip.vision.image_size");
    MD_ASSIGN_OR_RETURN(hp.n_embd, keys.integer("clip.vision.embedding_length", 1, 65536));
    MD_ASSIGN_OR_RETURN(hp.n_ff, keys.integer("clip.vision.feed_forward_length", 1, 1 << 20));
    MD_ASSIGN_OR_RETURN(hp.n_head, keys.integer("clip.vision.attention.head_count", 1, hp.n_embd));
    if (hp.n_embd % hp.n_head != 0) return keys.error("clip.vision.attention.head_count", "does not divide embedding_length");
    MD_ASSIGN_OR_RETURN(const double eps, keys.number("clip.vision.attention.layer_norm_epsilon"));
    if (!(eps > 0 && eps < 1)) return keys.error("clip.vision.attention.layer_norm_epsilon", "must be in (0, 1)");
    hp.norm_eps = float(eps);
    MD_ASSIGN_OR_RETURN(hp.n_block_file, keys.integer("clip.vision.block_count", 1, 1024));
    if (keys.has("clip.vision.feature_layer")) {
        // llama.cpp's rule: run up to the deepest requested layer.
        MD_ASSIGN_OR_RETURN(const std::vector<int64_t> layers, keys.integers("clip.vision.feature_layer"));
        if (layers.empty()) return keys.error("clip.vision.feature_layer", "is empty");
        const int64_t deepest = *std::max_element(layers.begin(), layers.end());
        if (deepest < 1 || deepest > hp.n_block_file) return keys.error("clip.vision.feature_layer", "names a block the file does not have");
        hp.n_block_run = int(deepest);
    } else {
        // The llava convention of legacy mmproj files: the last stored block is not run.
        if (hp.n_block_file < 2) return keys.error("clip.vision.block_count", "must be at least 2 without clip.vision.feature_layer");
        hp.n_block_run = hp.n_block_file - 1;
    }
    for (const char * key : {"clip.vision.image_mean", "clip.vision.image_std"}) {
        MD_ASSIGN_OR_RETURN(const std::vector<double> values, keys.numbers(key));
        if (values.size() < 3) return keys.error(key, "needs 3 values");
        float * out = std::string(key) == "clip.vision.image_mean" ? hp.mean : hp.std;
        for (int c = 0; c < 3; ++c) {
            if (!(values[size_t(c)] > -1e6 && values[size_t(c)] < 1e6)) return keys.error(key, "holds an impossible value");
            out[c] = float(values[size_t(c)]);
        }
    }
    for (float s : hp.std) {
        if (!(s > 0)) return keys.error("clip.vision.image_std", "must be positive");
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
    const ggml_tensor * down = f.peek("v.blk.0.ffn_down.weight");
    hp.ffn_names_swapped = down != nullptr && down->ne[0] == e && down->ne[1] == hp.n_ff && e != hp.n_ff;
    const char * fc1_name = hp.ffn_names_swapped ? "ffn_down" : "ffn_up";
    const char * fc2_name = hp.ffn_names_swapped ? "ffn_up" : "ffn_down";

    MD_ASSIGN_OR_RETURN(model->patch, f.tensor("v.patch_embd.weight", {p, p, 3, e}, TensorUse::dense));
    MD_ASSIGN_OR_RETURN(model->patch_b, f.tensor("v.patch_embd.bias", {e}, TensorUse::vector));
    MD_ASSIGN_OR_RETURN(model->position, f.tensor("v.position_embd.weight", {e, n_patches}, TensorUse::dense));
    model->layers.resize(size_t(hp.n_block_run));
    for (int i = 0; i < hp.n_block_run; ++i) {
        VisionLayer & l = model->layers[size_t(i)];
        const std::string b = "v.blk." + std::to_string(i) + ".";
        MD_ASSIGN_OR_RETURN(l.ln1, f.tensor(b + "ln1.weight", {e}, TensorUse::vector));
        MD_ASSIGN_OR_RETURN(l.ln1_b, f.tensor(b + "ln1.bias", {e}, TensorUse::vector));
        MD_ASSIGN_OR_RETURN(l.q, f.tensor(b + "attn_q.weight", {e, e}, TensorUse::matrix));
        MD_ASSIGN_OR_RETURN(l.q_b, f.tensor(b + "attn_q.bias", {e}, TensorUse::vector));
        MD_ASSIGN_OR_RETURN(l.k, f.tensor(b + "attn_k.weight", {e, e}, TensorUse::matrix));
        MD_ASSIGN_OR_RETURN(l.k_b, f.tensor(b + "attn_k.bias", {e}, TensorUse::vector));
        MD_ASSIGN_OR_RETURN(l.v, f.tensor(b + "attn_v.weight", {e, e}, TensorUse::matrix));
        MD_ASSIGN_OR_RETURN(l.v_b, f.tensor(b + "attn_v.bias", {e}, TensorUse::vector));
        MD_ASSIGN_OR_RETURN(l.attn_out, f.tensor(b + "attn_out.weight", {e, e}, TensorUse::matrix));
        MD_ASSIGN_OR_RETURN(l.attn_out_b, f.tensor(b + "attn_out.bias", {e}, TensorUse::vector));
        MD_ASSIGN_OR_RETURN(l.ln2, f.tensor(b + "ln2.weight", {e}, TensorUse::vector));
        MD_ASSIGN_OR_RETURN(l.ln2_b, f.tensor(b + "ln2.bias", {e}, TensorUse::vector));
        MD_ASSIGN_OR_RETURN(l.fc1, f.tensor(b + fc1_name + ".weight", {e, hp.n_ff}, TensorUse::matrix));
        MD_ASSIGN_OR_RETURN(l.fc1_b, f.tensor(b + fc1_name + ".bias", {hp.n_ff}, TensorUse::vector));
        MD_ASSIGN_OR_RETURN(l.fc2, f.tensor(b + fc2_name + ".weight", {hp.n_ff, e}, TensorUse::matrix));
        MD_ASSIGN_OR_RETURN(l.fc2_b, f.tensor(b + fc2_name + ".bias", {e}, TensorUse::vector));
    }
    MD_ASSIGN_OR_RETURN(model->post_ln, f.tensor("v.post_ln.weight", {e}, TensorUse::vector));
    MD_ASSIGN_OR_RETURN(model->post_ln_b, f.tensor("v.post_ln.bias", {e}, TensorUse::vector));

    const ggml_tensor * mm0 = f.peek("mm.0.weight");
    const ggml_tensor * mm2 = f.peek("mm.2.weight");
    if (mm0 == nullptr || mm2 == nullptr) return Error{ErrorCode::model_format, "'" + path + "' has no mm.0 / mm.2 projector tensors"};
    if (f.has("mm.3.weight")) return Error{ErrorCode::model_format, "'" + path + "' has an mm.3 layer norm: not moondream's plain MLP projector"};
    hp.n_proj_inner = int(std::min<int64_t>(mm0->ne[1], 1 << 20));
    hp.n_proj_out = int(std::min<int64_t>(mm2->ne[1], 1 << 20));
    MD_ASSIGN_OR_RETURN(model->mm0, f.tensor("mm.0.weight", {e, hp.n_proj_inner}, TensorUse::matrix));
    MD_ASSIGN_OR_RETURN(model->mm0_b, f.tensor("mm.0.bias", {hp.n_proj_inner}, TensorUse::vector));
    MD_ASSIGN_OR_RETURN(model->mm2, f.tensor("mm.2.weight", {hp.n_proj_inner, hp.n_proj_out}, TensorUse::matrix));
    MD_ASSIGN_OR_RETURN(model->mm2_b, f.tensor("mm.2.bias", {hp.n_proj_out}, TensorUse::vector));

    std::vector<ggml_tensor *> matmul_weights = {model->mm0, model->mm2};
    for (const VisionLayer & l : model->layers) {
        matmul_weights.insert(matmul_weights.end(), {l.q, l.k, l.v, l.attn_out, l.fc1, l.fc2});
    }
    MD_RETURN_IF_ERROR(model->matmuls.place(*file, matmul_weights, placement));
    model->file = std::move(file);
    return model;
}

}  // namespace moondream
