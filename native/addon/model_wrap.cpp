#include "model_wrap.h"

#include "abort_flag.h"
#include "addon_data.h"
#include "async_work.h"
#include "bindings.h"
#include "js_errors.h"
#include "js_values.h"
#include "model_info_js.h"
#include "session_wrap.h"

namespace moondream::addon {

namespace {

Napi::Value embeddings_to_js(Napi::Env env, ImageEmbeddings & image) {
    Napi::Object out = Napi::Object::New(env);
    out.Set("rows", image.n_rows);
    out.Set("width", image.n_embd);
    out.Set("encodeMs", image.encode_ms);
    out.Set("embeddings", adopt_float32_array(env, std::move(image.data)));  // handed over, not copied
    return out;
}

}  // namespace

Napi::Function ModelWrap::define(Napi::Env env) {
    Napi::Function constructor = DefineClass(env, "NativeModel", {
        InstanceMethod<&ModelWrap::Info>("info"),
        InstanceMethod<&ModelWrap::Dispose>("dispose"),
        InstanceMethod<&ModelWrap::EncodePixels>("encodePixels"),
        InstanceMethod<&ModelWrap::TokenizerObject>("tokenizer"),
        InstanceMethod<&ModelWrap::CreateSession>("createSession"),
        InstanceMethod<&ModelWrap::TakeOpProfile>("takeOpProfile"),
    });
    addon_data(env).model_constructor = Napi::Persistent(constructor);
    return constructor;
}

Napi::Object ModelWrap::wrap(Napi::Env env, std::shared_ptr<Model> model) {
    Napi::Object object = addon_data(env).model_constructor.New({});
    ModelWrap::Unwrap(object)->model_ = std::move(model);
    return object;
}

ModelWrap::ModelWrap(const Napi::CallbackInfo & info) : Napi::ObjectWrap<ModelWrap>(info) {}

std::shared_ptr<Model> ModelWrap::model(Napi::Env env) const {
    if (!model_) throw make_js_error(env, Error{ErrorCode::disposed, "the model was disposed"});
    return model_;
}

Napi::Value ModelWrap::Info(const Napi::CallbackInfo & info) {
    return model_info_to_js(info.Env(), describe_model(*model(info.Env())));
}

Napi::Value ModelWrap::TokenizerObject(const Napi::CallbackInfo & info) {
    return NewTokenizerObject(info.Env(), model_tokenizer(*model(info.Env())));
}

// createSession(options) -> NativeSession. Cheap: the KV cache is allocated but its pages are only
// touched as positions are used, and graphs are built on the first call.
Napi::Value ModelWrap::CreateSession(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    std::shared_ptr<Model> shared = model(env);
    const int width = model_width(*shared);
    Result<SessionPtr> session = create_session(std::move(shared), read_session_params(info[0]));
    if (!session.ok()) throw make_js_error(env, session.error());
    return SessionWrap::wrap(env, std::move(session.value()), width);
}

// encodePixels(pixels: Float32Array, abort?) -> Promise<{ embeddings, rows, width, encodeMs }>.
// The rows belong to the model: every session of it can be asked about them.
Napi::Value ModelWrap::EncodePixels(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    std::shared_ptr<Model> shared = model(env);
    if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
        throw invalid_argument(env, "encodePixels expects a Float32Array of normalised CHW pixels");
    }
    Napi::Float32Array pixels = info[0].As<Napi::Float32Array>();
    // Copied so JS may reuse its array while the worker runs (3 x 378 x 378 floats, 1.7 MB).
    std::vector<float> copy(pixels.Data(), pixels.Data() + pixels.ElementLength());
    auto abort = AbortFlagWrap::from(info[1]);
    return PromiseWorker<ImageEmbeddings>::queue(
        env, "moondream:encodePixels",
        [shared, copy = std::move(copy), abort]() { return encode_image(*shared, copy.data(), copy.size(), abort.get()); },
        embeddings_to_js);
}

// takeOpProfile() -> [{ graph, op, ms, count }]: the op totals since load or the last call.
Napi::Value ModelWrap::TakeOpProfile(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    const std::vector<OpTime> totals = take_op_profile(*model(env));
    Napi::Array out = Napi::Array::New(env, totals.size());
    for (size_t i = 0; i < totals.size(); ++i) {
        Napi::Object entry = Napi::Object::New(env);
        entry.Set("graph", totals[i].graph);
        entry.Set("op", totals[i].op);
        entry.Set("ms", totals[i].ms);
        entry.Set("count", double(totals[i].count));
        out.Set(uint32_t(i), entry);
    }
    return out;
}

Napi::Value ModelWrap::Dispose(const Napi::CallbackInfo & info) {
    model_.reset();  // sessions and work in flight hold their own reference
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
    if (info.Length() > 2 && info[2].IsObject()) {
        const Napi::Object options = info[2].As<Napi::Object>();
        params.n_threads = int(number_option(options, "threads", 0));
        params.repack_weights = bool_option(options, "repackWeights", true);
        params.vnni_kernel = bool_option(options, "vnniKernel", true);
        params.profile_ops = bool_option(options, "profileOps", false);
        params.release_vision_weights = bool_option(options, "releaseVisionWeights", false);
        params.packed_cache_dir = string_option(options, "packedCacheDir", "");
    }
    return PromiseWorker<std::shared_ptr<Model>>::queue(
        env, "moondream:loadModel", [params]() { return load_model(params); },
        [](Napi::Env env, std::shared_ptr<Model> & model) -> Napi::Value { return ModelWrap::wrap(env, std::move(model)); });
}

}  // namespace moondream::addon
