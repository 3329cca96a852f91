#include "model_wrap.h"

#include "addon_data.h"
#include "bindings.h"
#include "js_errors.h"
#include "answer_worker.h"
#include "text_workers.h"
#include "vision_workers.h"

namespace moondream::addon {

namespace {

Napi::Array int_array(Napi::Env env, const std::vector<int> & values) {
    Napi::Array out = Napi::Array::New(env, values.size());
    for (size_t i = 0; i < values.size(); ++i) out.Set(uint32_t(i), values[i]);
    return out;
}

Napi::Array string_array(Napi::Env env, const std::vector<std::string> & values) {
    Napi::Array out = Napi::Array::New(env, values.size());
    for (size_t i = 0; i < values.size(); ++i) out.Set(uint32_t(i), values[i]);
    return out;
}

const char * gelu_name(Gelu gelu) { return gelu == Gelu::erf ? "erf" : "tanh"; }

Napi::Object info_to_js(Napi::Env env, const ModelInfo & info) {
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
    prompt.Set("stopTokenIds", int_array(env, info.prompt.stop_token_ids));
    prompt.Set("maxNewTokens", info.prompt.max_new_tokens);
    prompt.Set("stripSuffixes", string_array(env, info.prompt.strip_suffixes));
    prompt.Set("license", info.prompt.license);
    prompt.Set("revision", info.prompt.revision);

    Napi::Object out = Napi::Object::New(env);
    out.Set("text", text);
    out.Set("prompt", prompt);
    out.Set("mappedBytes", Napi::Number::New(env, double(info.mapped_bytes)));
    out.Set("repackedBytes", Napi::Number::New(env, double(info.repacked_bytes)));
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

class LoadModelWorker : public Napi::AsyncWorker {
public:
    LoadModelWorker(Napi::Env env, LoadParams params, SessionParams session)
        : Napi::AsyncWorker(env, "moondream:loadModel"), params_(std::move(params)), session_(session), deferred_(env) {}

    Napi::Promise promise() const { return deferred_.Promise(); }

    void Execute() override { result_.emplace(load_model(params_)); }

    void OnOK() override {
        Napi::Env env = Env();
        if (result_->ok()) {
            deferred_.Resolve(ModelWrap::wrap(env, result_->value(), session_));
        } else {
            deferred_.Reject(make_js_error(env, result_->error()).Value());
        }
    }

private:
    LoadParams params_;
    SessionParams session_;
    Napi::Promise::Deferred deferred_;
    std::optional<Result<std::shared_ptr<Model>>> result_;
};

}  // namespace

Napi::Function ModelWrap::define(Napi::Env env) {
    Napi::Function constructor = DefineClass(env, "NativeModel", {
        InstanceMethod<&ModelWrap::Info>("info"),
        InstanceMethod<&ModelWrap::Dispose>("dispose"),
        InstanceMethod<&ModelWrap::Evaluate>("evaluate"),
        InstanceMethod<&ModelWrap::Generate>("generate"),
        InstanceMethod<&ModelWrap::EncodePixels>("encodePixels"),
        InstanceMethod<&ModelWrap::TokenizerObject>("tokenizer"),
        InstanceMethod<&ModelWrap::Answer>("answer"),
    });
    addon_data(env).model_constructor = Napi::Persistent(constructor);
    return constructor;
}

Napi::Object ModelWrap::wrap(Napi::Env env, std::shared_ptr<Model> model, const SessionParams & params) {
    Napi::Object object = addon_data(env).model_constructor.New({});
    ModelWrap * wrap = ModelWrap::Unwrap(object);
    wrap->model_ = std::move(model);
    wrap->slot_ = std::make_shared<SessionSlot>();
    wrap->slot_->params = params;
    return object;
}

ModelWrap::ModelWrap(const Napi::CallbackInfo & info) : Napi::ObjectWrap<ModelWrap>(info) {}

std::shared_ptr<Model> ModelWrap::model(Napi::Env env) const {
    if (!model_) throw make_js_error(env, Error{ErrorCode::disposed, "the model was disposed"});
    return model_;
}

Napi::Value ModelWrap::Info(const Napi::CallbackInfo & info) {
    return info_to_js(info.Env(), describe_model(*model(info.Env())));
}

Napi::Value ModelWrap::Evaluate(const Napi::CallbackInfo & info) { return EvaluateBinding(info); }

Napi::Value ModelWrap::Generate(const Napi::CallbackInfo & info) { return GenerateBinding(info); }

Napi::Value ModelWrap::EncodePixels(const Napi::CallbackInfo & info) { return EncodePixelsBinding(info); }

Napi::Value ModelWrap::TokenizerObject(const Napi::CallbackInfo & info) {
    return NewTokenizerObject(info.Env(), model_tokenizer(*model(info.Env())));
}

Napi::Value ModelWrap::Answer(const Napi::CallbackInfo & info) { return AnswerBinding(info); }

Napi::Value ModelWrap::Dispose(const Napi::CallbackInfo & info) {
    model_.reset();
    slot_.reset();  // work in flight holds its own reference and finishes first
    return info.Env().Undefined();
}

Napi::Value LoadModelBinding(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsString() || !info[1].IsString()) {
        throw invalid_argument(env, "loadModel expects (textPath, mmprojPath) strings; an empty mmprojPath loads the text model only");
    }
    LoadParams params;
    params.text_path = info[0].As<Napi::String>().Utf8Value();
    params.mmproj_path = info[1].As<Napi::String>().Utf8Value();
    SessionParams session;
    if (info.Length() > 2 && info[2].IsObject()) {
        Napi::Object options = info[2].As<Napi::Object>();
        auto number = [&](const char * key, double fallback) {
            Napi::Value value = options.Get(key);
            return value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : fallback;
        };
        session.n_threads = int(number("threads", 0));
        session.n_ctx = int(number("contextSize", 2048));
        session.n_batch = int(number("batchSize", 256));
        session.prefix_cache_bytes = size_t(number("prefixCacheBytes", double(session.prefix_cache_bytes)));
        session.kv_f32 = options.Get("kvCacheType").IsString() && options.Get("kvCacheType").As<Napi::String>().Utf8Value() == "f32";
        session.flash_attention = !(options.Get("flashAttention").IsBoolean() && !options.Get("flashAttention").As<Napi::Boolean>().Value());
        session.exact_gelu = options.Get("gelu").IsString() && options.Get("gelu").As<Napi::String>().Utf8Value() == "exact";
        params.repack_weights = !(options.Get("repackWeights").IsBoolean() && !options.Get("repackWeights").As<Napi::Boolean>().Value());
        params.vnni_kernel = !(options.Get("vnniKernel").IsBoolean() && !options.Get("vnniKernel").As<Napi::Boolean>().Value());
    }
    auto * worker = new LoadModelWorker(env, std::move(params), session);
    Napi::Promise promise = worker->promise();
    worker->Queue();  // node-addon-api deletes the worker when it completes
    return promise;
}

}  // namespace moondream::addon
