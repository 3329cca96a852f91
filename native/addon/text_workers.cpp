// Text evaluation and generation on libuv worker threads. Generated tokens travel to JS through
// a thread-safe function as they are produced; the promise is settled by that function's
// finalizer, which runs after every queued token was delivered, so delivery is always ordered
// before completion and the compute thread never waits for JS.
#include "text_workers.h"

#include "abort_flag.h"
#include "answer_worker.h"
#include "js_errors.h"
#include "model_wrap.h"

namespace moondream::addon {

namespace {

std::vector<int32_t> read_tokens(Napi::Env env, const Napi::Value & value) {
    if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
        throw invalid_argument(env, "tokens must be an Int32Array");
    }
    Napi::Int32Array array = value.As<Napi::Int32Array>();
    return std::vector<int32_t>(array.Data(), array.Data() + array.ElementLength());
}

class EvaluateWorker : public Napi::AsyncWorker {
public:
    EvaluateWorker(Napi::Env env, std::shared_ptr<Model> model, std::shared_ptr<SessionSlot> slot, std::vector<int32_t> tokens,
                   std::vector<float> rows, std::shared_ptr<std::atomic<bool>> abort)
        : Napi::AsyncWorker(env, "moondream:evaluate"), model_(std::move(model)), slot_(std::move(slot)), tokens_(std::move(tokens)),
          rows_(std::move(rows)), abort_(std::move(abort)), deferred_(env) {}

    Napi::Promise promise() const { return deferred_.Promise(); }

    void Execute() override {
        std::lock_guard<std::mutex> lock(slot_->mutex);
        if (Status status = slot_->ensure(model_)) {
            result_.emplace(*status);
            return;
        }
        const size_t width = size_t(model_width(*model_));
        result_.emplace(evaluate_tokens(*slot_->session, tokens_, rows_.data(), rows_.size() / width, abort_.get()));
    }

    void OnOK() override {
        Napi::Env env = Env();
        if (!result_->ok()) {
            deferred_.Reject(make_js_error(env, result_->error()).Value());
            return;
        }
        const std::vector<float> & logits = result_->value();
        Napi::Float32Array out = Napi::Float32Array::New(env, logits.size());
        std::copy(logits.begin(), logits.end(), out.Data());
        deferred_.Resolve(out);
    }

private:
    std::shared_ptr<Model> model_;
    std::shared_ptr<SessionSlot> slot_;
    std::vector<int32_t> tokens_;
    std::vector<float> rows_;  // a test surface: copied, unlike answer()'s rows
    std::shared_ptr<std::atomic<bool>> abort_;
    Napi::Promise::Deferred deferred_;
    std::optional<Result<std::vector<float>>> result_;
};

// What the generate call leaves for the finalizer that settles the promise.
struct GenerateOutcome {
    explicit GenerateOutcome(Napi::Env env) : deferred(env) {}
    Napi::Promise::Deferred deferred;
    std::optional<Result<GenerateResult>> result;
};

Napi::Value result_to_js(Napi::Env env, const GenerateResult & result) {
    Napi::Object out = Napi::Object::New(env);
    Napi::Int32Array tokens = Napi::Int32Array::New(env, result.tokens.size());
    std::copy(result.tokens.begin(), result.tokens.end(), tokens.Data());
    out.Set("tokens", tokens);
    out.Set("stoppedByToken", result.stopped_by_token);
    out.Set("promptTokens", result.prompt_tokens);
    out.Set("prefillMs", result.prefill_ms);
    out.Set("decodeMs", result.decode_ms);
    return out;
}

class GenerateWorker : public Napi::AsyncWorker {
public:
    GenerateWorker(Napi::Env env, std::shared_ptr<Model> model, std::shared_ptr<SessionSlot> slot, std::vector<int32_t> prompt,
                   GenerateParams params, Napi::ThreadSafeFunction deliver, std::shared_ptr<GenerateOutcome> outcome,
                   std::shared_ptr<std::atomic<bool>> abort)
        : Napi::AsyncWorker(env, "moondream:generate"), model_(std::move(model)), slot_(std::move(slot)), prompt_(std::move(prompt)),
          params_(std::move(params)), deliver_(std::move(deliver)), outcome_(std::move(outcome)), abort_(std::move(abort)) {}

    void Execute() override {
        {
            std::lock_guard<std::mutex> lock(slot_->mutex);
            if (Status status = slot_->ensure(model_)) {
                outcome_->result.emplace(*status);
            } else {
                auto on_token = [this](int32_t token) {
                    deliver_.NonBlockingCall([token](Napi::Env env, Napi::Function callback) {
                        callback.Call({Napi::Number::New(env, token)});
                    });
                    return true;
                };
                outcome_->result.emplace(generate_tokens(*slot_->session, prompt_, params_, on_token, abort_.get()));
            }
        }
        deliver_.Release();  // the finalizer settles the promise once queued tokens are delivered
    }

    void OnOK() override {}

private:
    std::shared_ptr<Model> model_;
    std::shared_ptr<SessionSlot> slot_;
    std::vector<int32_t> prompt_;
    GenerateParams params_;
    Napi::ThreadSafeFunction deliver_;
    std::shared_ptr<GenerateOutcome> outcome_;
    std::shared_ptr<std::atomic<bool>> abort_;
};

}  // namespace

static double number_option(Napi::Object options, const char * key, double fallback) {
    Napi::Value value = options.Get(key);
    return value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : fallback;
}

GenerateParams read_generate_params(Napi::Env env, Napi::Value value) {
    if (!value.IsObject()) throw invalid_argument(env, "generate options must be an object");
    Napi::Object options = value.As<Napi::Object>();
    GenerateParams params;
    params.max_tokens = int(number_option(options, "maxTokens", 256));
    SamplingParams & s = params.sampling;
    s.temperature = float(number_option(options, "temperature", 0));
    s.top_k = int(number_option(options, "topK", 0));
    s.top_p = float(number_option(options, "topP", 1));
    s.min_p = float(number_option(options, "minP", 0));
    s.repeat_penalty = float(number_option(options, "repeatPenalty", 1));
    s.repeat_last_n = int(number_option(options, "repeatLastN", 64));
    s.seed = uint64_t(number_option(options, "seed", 0));
    Napi::Value stops = options.Get("stopTokenIds");
    if (stops.IsTypedArray()) params.stop_token_ids = read_tokens(env, stops);
    return params;
}


Napi::Value EvaluateBinding(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    ModelWrap * wrap = ModelWrap::Unwrap(info.This().As<Napi::Object>());
    std::vector<int32_t> tokens = read_tokens(env, info[0]);
    std::shared_ptr<Model> model = wrap->model(env);
    std::vector<float> rows;
    if (info.Length() > 2 && info[2].IsTypedArray()) {
        if (info[2].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) throw invalid_argument(env, "image rows must be a Float32Array");
        Napi::Float32Array array = info[2].As<Napi::Float32Array>();
        if (array.ElementLength() % size_t(model_width(*model)) != 0) throw invalid_argument(env, "image rows must be whole rows of the text width");
        rows.assign(array.Data(), array.Data() + array.ElementLength());
    }
    auto * worker = new EvaluateWorker(env, model, wrap->session_slot(), std::move(tokens), std::move(rows), AbortFlagWrap::from(info[1]));
    Napi::Promise promise = worker->promise();
    worker->Queue();  // node-addon-api deletes the worker when it completes
    return promise;
}

Napi::Value GenerateBinding(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    ModelWrap * wrap = ModelWrap::Unwrap(info.This().As<Napi::Object>());
    std::shared_ptr<Model> model = wrap->model(env);
    std::vector<int32_t> prompt = read_tokens(env, info[0]);
    GenerateParams params = read_generate_params(env, info[1]);
    Napi::Function on_token = info[2].IsFunction() ? info[2].As<Napi::Function>()
                                                   : Napi::Function::New(env, [](const Napi::CallbackInfo &) {});
    auto outcome = std::make_shared<GenerateOutcome>(env);
    Napi::ThreadSafeFunction deliver = Napi::ThreadSafeFunction::New(env, on_token, "moondream:tokens", 0, 1, [outcome](Napi::Env env) {
        if (!outcome->result) {
            outcome->deferred.Reject(make_js_error(env, Error{ErrorCode::internal, "generation ended without a result"}).Value());
        } else if (outcome->result->ok()) {
            outcome->deferred.Resolve(result_to_js(env, outcome->result->value()));
        } else {
            outcome->deferred.Reject(make_js_error(env, outcome->result->error()).Value());
        }
    });
    Napi::Promise promise = outcome->deferred.Promise();
    auto * worker = new GenerateWorker(env, std::move(model), wrap->session_slot(), std::move(prompt), std::move(params), deliver,
                                       outcome, AbortFlagWrap::from(info[3]));
    worker->Queue();  // node-addon-api deletes the worker when it completes
    return promise;
}

}  // namespace moondream::addon
