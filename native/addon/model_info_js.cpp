#include "model_info_js.h"

#include "js_values.h"

namespace moondream::addon {

namespace {

const char * gelu_name(Gelu gelu) { return gelu == Gelu::erf ? "erf" : "tanh"; }

}  // namespace

Napi::Object model_info_to_js(Napi::Env env, const ModelInfo & info) {
    Napi::Object text = Napi::Object::New(env);
    text.Set("vocabSize", info.text.n_vocab);
    text.Set("embeddingLength", info.text.n_embd);
    text.Set("blockCount", info.text.n_layer);
    text.Set("headCount", info.text.n_head);
    text.Set("feedForwardLength", info.text.n_ff);
    text.Set("contextLength", info.text.n_ctx_train);
    text.Set("ropeDimensions", info.text.n_rot);
    text.Set("ropeBase", info.text.rope_base);
    text.Set("layerNormEpsilon", info.text.norm_eps);

    Napi::Object prompt = Napi::Object::New(env);
    prompt.Set("name", info.prompt.name);
    prompt.Set("template", info.prompt.template_text);
    prompt.Set("historyTurn", info.prompt.history_turn);
    prompt.Set("captionQuestion", info.prompt.caption_question);
    prompt.Set("bosTokenId", info.prompt.bos_token_id);
    prompt.Set("stopTokenIds", number_array(env, info.prompt.stop_token_ids));
    prompt.Set("maxNewTokens", info.prompt.max_new_tokens);
    prompt.Set("stripSuffixes", string_array(env, info.prompt.strip_suffixes));
    prompt.Set("license", info.prompt.license);
    prompt.Set("revision", info.prompt.revision);

    Napi::Object out = Napi::Object::New(env);
    out.Set("text", text);
    out.Set("prompt", prompt);
    out.Set("mappedBytes", Napi::Number::New(env, double(info.mapped_bytes)));
    out.Set("repackedBytes", Napi::Number::New(env, double(info.repacked_bytes)));
    out.Set("threads", info.threads);
    out.Set("visionComputeBytes", Napi::Number::New(env, double(info.vision_compute_bytes)));
    Napi::Object packed_cache = Napi::Object::New(env);
    packed_cache.Set("text", info.text_packed_cache);
    packed_cache.Set("vision", info.vision_packed_cache);
    out.Set("packedCache", packed_cache);
    if (!info.has_vision) {
        out.Set("vision", env.Null());
        return out;
    }
    const VisionHparams & hp = info.vision;
    Napi::Object vision = Napi::Object::New(env);
    vision.Set("imageSize", hp.image_size);
    vision.Set("patchSize", hp.patch_size);
    vision.Set("embeddingLength", hp.n_embd);
    vision.Set("headCount", hp.n_head);
    vision.Set("feedForwardLength", hp.n_ff);
    vision.Set("blockCountInFile", hp.n_block_file);
    vision.Set("blockCount", hp.n_block_run);
    vision.Set("projectionInner", hp.n_proj_inner);
    vision.Set("projectionDim", hp.n_proj_out);
    vision.Set("layerNormEpsilon", hp.norm_eps);
    vision.Set("ffnNamesSwapped", hp.ffn_names_swapped);
    vision.Set("gelu", gelu_name(info.vision_profile.vision_gelu));
    vision.Set("projectorGelu", gelu_name(info.vision_profile.projector_gelu));
    vision.Set("resize", "stretch");  // the only ResizeMode
    Napi::Array mean = Napi::Array::New(env, 3);
    Napi::Array std = Napi::Array::New(env, 3);
    for (uint32_t c = 0; c < 3; ++c) {
        mean.Set(c, hp.mean[c]);
        std.Set(c, hp.std[c]);
    }
    vision.Set("imageMean", mean);
    vision.Set("imageStd", std);
    out.Set("vision", vision);
    return out;
}

Napi::Object session_info_to_js(Napi::Env env, const SessionInfo & info) {
    Napi::Object out = Napi::Object::New(env);
    out.Set("contextSize", info.n_ctx);
    out.Set("kvCacheBytes", Napi::Number::New(env, double(info.kv_cache_bytes)));
    out.Set("computeBytes", Napi::Number::New(env, double(info.compute_bytes)));
    out.Set("prefixCacheBytes", Napi::Number::New(env, double(info.prefix_cache_bytes)));
    out.Set("prefixCacheEntries", info.prefix_cache_entries);
    out.Set("totalBytes", Napi::Number::New(env, double(info.total_bytes())));
    return out;
}

}  // namespace moondream::addon
