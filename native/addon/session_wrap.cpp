#include "session_wrap.h"

#include <string>

#include "abort_flag.h"
#include "addon_data.h"
#include "async_work.h"
#include "js_errors.h"
#include "js_values.h"
#include "model_info_js.h"

namespace moondream::addon {

namespace {

Napi::Value generate_result_to_js(Napi::Env env, GenerateResult & result) {
    Napi::Object out = Napi::Object::New(env);
    out.Set("tokens", int32_array(env, result.tokens));
    out.Set("stoppedByToken", result.stopped_by_token);
    out.Set("promptTokens", result.prompt_tokens);
    out.Set("prefillMs", result.prefill_ms);
    out.Set("decodeMs", result.decode_ms);
    return out;
}

Napi::Value answer_result_to_js(Napi::Env env, AnswerResult & result) {
    Napi::Object out = Napi::Object::New(env);
    out.Set("text", result.text);
    out.Set("tokens", int32_array(env, result.tokens));
    out.Set("stoppedByToken", result.stopped_by_token);
    out.Set("promptPositions", result.prompt_positions);
    out.Set("reusedPositions", result.reused_positions);
    out.Set("prefillMs", result.prefill_ms);
    out.Set("decodeMs", result.decode_ms);
    return out;
}

Napi::Value token_to_js(Napi::Env env, const int32_t & token) { return Napi::Number::New(env, token); }

Napi::Value piece_to_js(Napi::Env env, const std::string & piece) { return Napi::String::New(env, piece); }

}  // namespace

SessionHandle::SessionHandle(SessionPtr session) : session_(std::move(session)) { refresh_info(); }

SessionInfo SessionHandle::info() const {
    std::lock_guard<std::mutex> lock(info_mutex_);
    return info_;
}

void SessionHandle::refresh_info() {
    SessionInfo now = describe_session(*session_);
    std::lock_guard<std::mutex> lock(info_mutex_);
    info_ = now;
}

SessionParams read_session_params(const Napi::Value & value) {
    SessionParams params;
    if (!value.IsObject()) return params;
    Napi::Object options = value.As<Napi::Object>();
    params.n_ctx = int(number_option(options, "contextSize", params.n_ctx));
    params.n_batch = int(number_option(options, "batchSize", params.n_batch));
    params.prefix_cache_bytes = size_t(number_option(options, "prefixCacheBytes", double(params.prefix_cache_bytes)));
    params.kv_f32 = string_option(options, "kvCacheType", "f16") == "f32";
    params.flash_attention = bool_option(options, "flashAttention", params.flash_attention);
    params.exact_gelu = string_option(options, "gelu", "fast") == "exact";
    return params;
}

Napi::Function SessionWrap::define(Napi::Env env) {
    Napi::Function constructor = DefineClass(env, "NativeSession", {
        InstanceMethod<&SessionWrap::Info>("info"),
        InstanceMethod<&SessionWrap::Dispose>("dispose"),
        InstanceMethod<&SessionWrap::Evaluate>("evaluate"),
        InstanceMethod<&SessionWrap::Generate>("generate"),
        InstanceMethod<&SessionWrap::Answer>("answer"),
    });
    addon_data(env).session_constructor = Napi::Persistent(constructor);
    return constructor;
}

Napi::Object SessionWrap::wrap(Napi::Env env, SessionPtr session, int model_width) {
    Napi::Object object = addon_data(env).session_constructor.New({});
    SessionWrap * wrap = SessionWrap::Unwrap(object);
    wrap->handle_ = std::make_shared<SessionHandle>(std::move(session));
    wrap->model_width_ = model_width;
    return object;
}

SessionWrap::SessionWrap(const Napi::CallbackInfo & info) : Napi::ObjectWrap<SessionWrap>(info) {}

std::shared_ptr<SessionHandle> SessionWrap::handle(Napi::Env env) const {
    if (!handle_) throw make_js_error(env, Error{ErrorCode::disposed, "the session was disposed"});
    return handle_;
}

Napi::Value SessionWrap::Info(const Napi::CallbackInfo & info) {
    return session_info_to_js(info.Env(), handle(info.Env())->info());
}

Napi::Value SessionWrap::Dispose(const Napi::CallbackInfo & info) {
    handle_.reset();  // work in flight holds its own reference and frees the session when it returns
    return info.Env().Undefined();
}

// evaluate(tokens: Int32Array, abort?, rows?: Float32Array) -> Promise<Float32Array> (logits)
Napi::Value SessionWrap::Evaluate(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    std::shared_ptr<SessionHandle> session = handle(env);
    std::vector<int32_t> tokens = read_int32_array(env, info[0], "tokens");
    const FloatRows rows = read_float_rows(env, info[2], model_width_, "image rows");
    auto abort = AbortFlagWrap::from(info[1]);
    KeepAlive keep;
    if (rows.data != nullptr) keep.push_back(info[2].As<Napi::Object>());  // read in place
    return PromiseWorker<std::vector<float>>::queue(
        env, "moondream:evaluate",
        [session, tokens = std::move(tokens), rows, abort]() {
            return session->run([&](Session & s) { return evaluate_tokens(s, tokens, rows.data, rows.n_rows, abort.get()); });
        },
        [](Napi::Env env, std::vector<float> & logits) -> Napi::Value { return adopt_float32_array(env, std::move(logits)); }, keep);
}

// generate(tokens: Int32Array, options, onToken?, abort?) -> Promise<result>; onToken(id) per token
Napi::Value SessionWrap::Generate(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    std::shared_ptr<SessionHandle> session = handle(env);
    std::vector<int32_t> prompt = read_int32_array(env, info[0], "tokens");
    GenerateParams params = read_generate_params(env, info[1]);
    auto abort = AbortFlagWrap::from(info[3]);
    return StreamWorker<GenerateResult, int32_t>::queue(
        env, "moondream:generate", info[2],
        [session, prompt = std::move(prompt), params = std::move(params), abort](const std::function<void(int32_t)> & emit) {
            auto on_token = [&](int32_t token) {
                emit(token);
                return true;
            };
            return session->run([&](Session & s) { return generate_tokens(s, prompt, params, on_token, abort.get()); });
        },
        generate_result_to_js, token_to_js);
}

// answer(imageId, rows: Float32Array | null, prefix: Int32Array, suffix: Int32Array,
//        options & { stripSuffixes }, onPiece?, abort?) -> Promise<result>; onPiece(text) per piece.
// The image rows are read in place from the JS array, never copied.
Napi::Value SessionWrap::Answer(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    std::shared_ptr<SessionHandle> session = handle(env);
    AnswerRequest request;
    if (!info[0].IsNumber()) throw invalid_argument(env, "imageId must be a number");
    request.image_id = uint64_t(info[0].As<Napi::Number>().Int64Value());
    const FloatRows rows = read_float_rows(env, info[1], model_width_, "image rows");
    request.rows = rows.data;
    request.n_rows = int(rows.n_rows);
    request.prefix_tokens = read_int32_array(env, info[2], "prefix tokens");
    request.suffix_tokens = read_int32_array(env, info[3], "suffix tokens");
    request.params = read_generate_params(env, info[4]);
    Napi::Value strip = info[4].As<Napi::Object>().Get("stripSuffixes");
    if (strip.IsArray()) {
        Napi::Array array = strip.As<Napi::Array>();
        for (uint32_t i = 0; i < array.Length(); ++i) request.strip_suffixes.push_back(array.Get(i).ToString().Utf8Value());
    }
    auto abort = AbortFlagWrap::from(info[6]);
    KeepAlive keep;
    if (rows.data != nullptr) keep.push_back(info[1].As<Napi::Object>());
    return StreamWorker<AnswerResult, std::string>::queue(
        env, "moondream:answer", info[5],
        [session, request = std::move(request), abort](const std::function<void(std::string)> & emit) {
            auto on_piece = [&](const std::string & piece) { emit(piece); };
            return session->run([&](Session & s) { return answer_question(s, request, on_piece, abort.get()); });
        },
        answer_result_to_js, piece_to_js, keep);
}

}  // namespace moondream::addon
