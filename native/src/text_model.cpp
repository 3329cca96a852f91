#include "text_model.h"

#include "gguf_names.h"
#include "profile.h"
#include "tensor_names.h"
#include "vocab.h"
#include "try.h"

namespace moondream {

namespace {

namespace general_keys = gguf::general_keys;
namespace text_keys = gguf::text_keys;
namespace text_tensors = gguf::text_tensors;

Result<TextHparams> read_text_hparams(const WeightFile & file) {
    const GgufKeys & keys = file.keys();
    MD_ASSIGN_OR_RETURN(std::string arch, keys.string(general_keys::architecture));
    if (arch != gguf::values::text_architecture) {
        return keys.error(general_keys::architecture, "is \"" + arch + "\", expected \"" + gguf::values::text_architecture + "\" (a moondream text model)");
    }
    TextHparams hp;
    MD_ASSIGN_OR_RETURN(hp.n_embd, keys.integer(text_keys::embedding_length, 1, 65536));
    MD_ASSIGN_OR_RETURN(hp.n_layer, keys.integer(text_keys::block_count, 1, 1024));
    MD_ASSIGN_OR_RETURN(hp.n_head, keys.integer(text_keys::head_count, 1, hp.n_embd));
    MD_ASSIGN_OR_RETURN(const int64_t n_head_kv, keys.integer_or(text_keys::head_count_kv, hp.n_head, 1, hp.n_embd));
    if (n_head_kv != hp.n_head) return keys.error(text_keys::head_count_kv, "differs from head_count; Phi-1.5 has no grouped-query attention");
    if (hp.n_embd % hp.n_head != 0) return keys.error(text_keys::head_count, "does not divide embedding_length");
    const int head_dim = hp.n_embd / hp.n_head;
    MD_ASSIGN_OR_RETURN(hp.n_ff, keys.integer_or(text_keys::feed_forward_length, 4 * int64_t(hp.n_embd), 1, 1 << 20));
    MD_ASSIGN_OR_RETURN(hp.n_ctx_train, keys.integer(text_keys::context_length, 1, 1 << 20));
    MD_ASSIGN_OR_RETURN(hp.n_rot, keys.integer_or(text_keys::rope_dimension_count, head_dim, 2, head_dim));
    if (hp.n_rot % 2 != 0) return keys.error(text_keys::rope_dimension_count, "must be even");
    MD_ASSIGN_OR_RETURN(const double eps, keys.number(text_keys::layer_norm_epsilon));
    if (!(eps > 0 && eps < 1)) return keys.error(text_keys::layer_norm_epsilon, "must be in (0, 1)");
    hp.norm_eps = float(eps);
    MD_ASSIGN_OR_RETURN(const double base, keys.number_or(text_keys::rope_freq_base, 10000.0));
    if (!(base > 1)) return keys.error(text_keys::rope_freq_base, "must be greater than 1");
    hp.rope_base = float(base);
    MD_ASSIGN_OR_RETURN(const std::vector<std::string> tokens, keys.strings(gguf::tokenizer_keys::tokens));
    if (tokens.empty() || tokens.size() > (1u << 24)) return keys.error(gguf::tokenizer_keys::tokens, "has an impossible size");
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

    MD_ASSIGN_OR_RETURN(model->tok_embd, f.tensor(weight_name(text_tensors::token_embd), {e, hp.n_vocab}, TensorUse::embedding));
    model->layers.resize(size_t(hp.n_layer));
    for (int i = 0; i < hp.n_layer; ++i) {
        TextLayer & l = model->layers[size_t(i)];
        MD_ASSIGN_OR_RETURN(l.attn_norm, f.tensor(weight_name(text_tensors::attn_norm, i), {e}, TensorUse::vector));
        MD_ASSIGN_OR_RETURN(l.attn_norm_b, f.tensor(bias_name(text_tensors::attn_norm, i), {e}, TensorUse::vector));
        MD_ASSIGN_OR_RETURN(l.qkv, f.tensor(weight_name(text_tensors::attn_qkv, i), {e, 3 * e}, TensorUse::matrix));
        MD_ASSIGN_OR_RETURN(l.qkv_b, f.tensor(bias_name(text_tensors::attn_qkv, i), {3 * e}, TensorUse::vector));
        MD_ASSIGN_OR_RETURN(l.attn_out, f.tensor(weight_name(text_tensors::attn_output, i), {e, e}, TensorUse::matrix));
        MD_ASSIGN_OR_RETURN(l.attn_out_b, f.tensor(bias_name(text_tensors::attn_output, i), {e}, TensorUse::vector));
        MD_ASSIGN_OR_RETURN(l.ffn_up, f.tensor(weight_name(text_tensors::ffn_up, i), {e, hp.n_ff}, TensorUse::matrix));
        MD_ASSIGN_OR_RETURN(l.ffn_up_b, f.tensor(bias_name(text_tensors::ffn_up, i), {hp.n_ff}, TensorUse::vector));
        MD_ASSIGN_OR_RETURN(l.ffn_down, f.tensor(weight_name(text_tensors::ffn_down, i), {hp.n_ff, e}, TensorUse::matrix));
        MD_ASSIGN_OR_RETURN(l.ffn_down_b, f.tensor(bias_name(text_tensors::ffn_down, i), {e}, TensorUse::vector));
    }
    MD_ASSIGN_OR_RETURN(model->out_norm, f.tensor(weight_name(text_tensors::output_norm), {e}, TensorUse::vector));
    MD_ASSIGN_OR_RETURN(model->out_norm_b, f.tensor(bias_name(text_tensors::output_norm), {e}, TensorUse::vector));
    MD_ASSIGN_OR_RETURN(model->output, f.tensor(weight_name(text_tensors::output), {e, hp.n_vocab}, TensorUse::matrix));
    MD_ASSIGN_OR_RETURN(model->output_b, f.tensor(bias_name(text_tensors::output), {hp.n_vocab}, TensorUse::vector));

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
