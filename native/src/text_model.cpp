#include "text_model.h"

#include "profile.h"
#include "vocab.h"
#include "try.h"

namespace moondream {

namespace {

Result<TextHparams> read_text_hparams(const WeightFile & file) {
    const GgufKeys & keys = file.keys();
    MD_ASSIGN_OR_RETURN(std::string arch, keys.string("general.architecture"));
    if (arch != "phi2") return keys.error("general.architecture", "is \"" + arch + "\", expected \"phi2\" (a moondream text model)");
    TextHparams hp;
    MD_ASSIGN_OR_RETURN(hp.n_embd, keys.integer("phi2.embedding_length", 1, 65536));
    MD_ASSIGN_OR_RETURN(hp.n_layer, keys.integer("phi2.block_count", 1, 1024));
    MD_ASSIGN_OR_RETURN(hp.n_head, keys.integer("phi2.attention.head_count", 1, hp.n_embd));
    MD_ASSIGN_OR_RETURN(const int64_t n_head_kv, keys.integer_or("phi2.attention.head_count_kv", hp.n_head, 1, hp.n_embd));
    if (n_head_kv != hp.n_head) return keys.error("phi2.attention.head_count_kv", "differs from head_count; Phi-1.5 has no grouped-query attention");
    if (hp.n_embd % hp.n_head != 0) return keys.error("phi2.attention.head_count", "does not divide embedding_length");
    const int head_dim = hp.n_embd / hp.n_head;
    MD_ASSIGN_OR_RETURN(hp.n_ff, keys.integer_or("phi2.feed_forward_length", 4 * int64_t(hp.n_embd), 1, 1 << 20));
    MD_ASSIGN_OR_RETURN(hp.n_ctx_train, keys.integer("phi2.context_length", 1, 1 << 20));
    MD_ASSIGN_OR_RETURN(hp.n_rot, keys.integer_or("phi2.rope.dimension_count", head_dim, 2, head_dim));
    if (hp.n_rot % 2 != 0) return keys.error("phi2.rope.dimension_count", "must be even");
    MD_ASSIGN_OR_RETURN(const double eps, keys.number("phi2.attention.layer_norm_epsilon"));
    if (!(eps > 0 && eps < 1)) return keys.error("phi2.attention.layer_norm_epsilon", "must be in (0, 1)");
    hp.norm_eps = float(eps);
    MD_ASSIGN_OR_RETURN(const double base, keys.number_or("phi2.rope.freq_base", 10000.0));
    if (!(base > 1)) return keys.error("phi2.rope.freq_base", "must be greater than 1");
    hp.rope_base = float(base);
    MD_ASSIGN_OR_RETURN(const std::vector<std::string> tokens, keys.strings("tokenizer.ggml.tokens"));
    if (tokens.empty() || tokens.size() > (1u << 24)) return keys.error("tokenizer.ggml.tokens", "has an impossible size");
    hp.n_vocab = int(tokens.size());
    return hp;
}

}  // namespace

Result<std::unique_ptr<TextModel>> load_text_model(const std::string & path, const WeightPlacement & placement) {
    MD_ASSIGN_OR_RETURN(std::unique_ptr<WeightFile> file, WeightFile::open(path));
    auto model = std::make_unique<TextModel>();
    MD_ASSIGN_OR_RETURN(model->hp, read_text_hparams(*file));
    MD_ASSIGN_OR_RETURN(model->prompt, read_prompt_profile(file->keys()));
    MD_ASSIGN_OR_RETURN(Vocab vocab, Vocab::from_gguf(file->gguf()));
    model->tokenizer.emplace(std::make_shared<const Vocab>(std::move(vocab)));
    if (model->tokenizer->vocab_size() != model->hp.n_vocab) {
        return Error{ErrorCode::model_format, "'" + path + "': the vocabulary has " + std::to_string(model->tokenizer->vocab_size()) +
                                                  " tokens but the model " + std::to_string(model->hp.n_vocab)};
    }
    const TextHparams & hp = model->hp;
    const int64_t e = hp.n_embd;
    const WeightFile & f = *file;

    MD_ASSIGN_OR_RETURN(model->tok_embd, f.tensor("token_embd.weight", {e, hp.n_vocab}, TensorUse::embedding));
    model->layers.resize(size_t(hp.n_layer));
    for (int i = 0; i < hp.n_layer; ++i) {
        TextLayer & l = model->layers[size_t(i)];
        const std::string p = "blk." + std::to_string(i) + ".";
        MD_ASSIGN_OR_RETURN(l.attn_norm, f.tensor(p + "attn_norm.weight", {e}, TensorUse::vector));
        MD_ASSIGN_OR_RETURN(l.attn_norm_b, f.tensor(p + "attn_norm.bias", {e}, TensorUse::vector));
        MD_ASSIGN_OR_RETURN(l.qkv, f.tensor(p + "attn_qkv.weight", {e, 3 * e}, TensorUse::matrix));
        MD_ASSIGN_OR_RETURN(l.qkv_b, f.tensor(p + "attn_qkv.bias", {3 * e}, TensorUse::vector));
        MD_ASSIGN_OR_RETURN(l.attn_out, f.tensor(p + "attn_output.weight", {e, e}, TensorUse::matrix));
        MD_ASSIGN_OR_RETURN(l.attn_out_b, f.tensor(p + "attn_output.bias", {e}, TensorUse::vector));
        MD_ASSIGN_OR_RETURN(l.ffn_up, f.tensor(p + "ffn_up.weight", {e, hp.n_ff}, TensorUse::matrix));
        MD_ASSIGN_OR_RETURN(l.ffn_up_b, f.tensor(p + "ffn_up.bias", {hp.n_ff}, TensorUse::vector));
        MD_ASSIGN_OR_RETURN(l.ffn_down, f.tensor(p + "ffn_down.weight", {hp.n_ff, e}, TensorUse::matrix));
        MD_ASSIGN_OR_RETURN(l.ffn_down_b, f.tensor(p + "ffn_down.bias", {e}, TensorUse::vector));
    }
    MD_ASSIGN_OR_RETURN(model->out_norm, f.tensor("output_norm.weight", {e}, TensorUse::vector));
    MD_ASSIGN_OR_RETURN(model->out_norm_b, f.tensor("output_norm.bias", {e}, TensorUse::vector));
    MD_ASSIGN_OR_RETURN(model->output, f.tensor("output.weight", {e, hp.n_vocab}, TensorUse::matrix));
    MD_ASSIGN_OR_RETURN(model->output_b, f.tensor("output.bias", {hp.n_vocab}, TensorUse::vector));

    std::vector<ggml_tensor *> matmul_weights = {model->output};
    for (const TextLayer & l : model->layers) {
        matmul_weights.insert(matmul_weights.end(), {l.qkv, l.attn_out, l.ffn_up, l.ffn_down});
    }
    // token_embd is read row by row on the host, so it stays in its file layout.
    MD_RETURN_IF_ERROR(model->matmuls.place(*file, matmul_weights, placement));
    model->file = std::move(file);
    return model;
}

}  // namespace moondream
