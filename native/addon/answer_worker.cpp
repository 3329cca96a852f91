// Answering about an image on a libuv worker thread. Pieces of the answer travel to JS through a
// thread-safe function as they become certain; the promise is settled by that function's
// finalizer, after every piece was delivered. The image rows are read in place from the JS
// Float32Array (held by a reference), never copied here.
#include "answer_worker.h"

#include "abort_flag.h"
#include "js_errors.h"
#include "model_wrap.h"

namespace moondream::addon {

namespace {

std::vector<int32_t> int32_array(Napi::Env env, const Napi::Value & value, const char * what) {
    if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
        throw invalid_argument(env, std::string(what) + " must be an Int32Array");
    }
    Napi::Int32Array array = value.As<Napi::Int32Array>();
    return std::vector<int32_t>(array.Data(), array.Data() + array.ElementLength());
}

struct AnswerOutcome {
    explicit AnswerOutcome(Napi::Env env) : deferred(env) {}
    Napi::Promise::Deferred deferred;
    std::optional<Result<AnswerResult>> result;
};

Napi::Value result_to_js(Napi::Env env, const AnswerResult & result) {
    Napi::Object out = Napi::Object::New(env);
    out.Set("text", result.text);
    Napi::Int32Array tokens = Napi::Int32Array::New(env, result.tokens.size());
    std::copy(result.tokens.begin(), result.tokens.end(), tokens.Data());
    out.Set("tokens", tokens);
    out.Set("stoppedByToken", result.stopped_by_token);
    out.Set("promptPositions", result.prompt_positions);
    out.Set("reusedPositions", result.reused_positions);
    out.Set("prefillMs", result.prefill_ms);
    out.Set("decodeMs", result.decode_ms);
    return out;
}

class AnswerWorker : public Napi::AsyncWorker {
public:
    AnswerWorker(Napi::Env env, std::shared_ptr<Model> model, std::shared_ptr<SessionSlot> slot, AnswerRequest request,
                 Napi::Value rows, Napi::ThreadSafeFunction deliver, std::shared_ptr<AnswerOutcome> outcome,
                 std::shared_ptr<std::atomic<bool>> abort)
        : Napi::AsyncWorker(env, "moondream:answer"), model_(std::move(model)), slot_(std::move(slot)), request_(std::move(request)),
          deliver_(std::move(deliver)), outcome_(std::move(outcome)), abort_(std::move(abort)) {
        if (rows.IsTypedArray()) rows_ = Napi::Persistent(rows.As<Napi::Object>());
    }

    void Execute() override {
        {
            std::lock_guard<std::mutex> lock(slot_->mutex);
            if (Status status = slot_->ensure(model_)) {
                outcome_->result.emplace(*status);
            } else {
                auto on_piece = [this](const std::string & piece) {
                    deliver_.NonBlockingCall([piece](Napi::Env env, Napi::Function callback) {
                        callback.Call({Napi::String::New(env, piece)});
                    });
                };
                outcome_->result.emplace(answer_question(*slot_->session, request_, on_piece, abort_.get()));
            }
        }
        deliver_.Release();  // the finalizer settles the promise once queued pieces are delivered
    }

    void OnOK() override {}

private:
    std::shared_ptr<Model> model_;
    std::shared_ptr<SessionSlot> slot_;
    AnswerRequest request_;
    Napi::ObjectReference rows_;  // keeps request_.rows alive
    Napi::ThreadSafeFunction deliver_;
    std::shared_ptr<AnswerOutcome> outcome_;
    std::shared_ptr<std::atomic<bool>> abort_;
};

}  // namespace

Napi::Value AnswerBinding(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    ModelWrap * wrap = ModelWrap::Unwrap(info.This().As<Napi::Object>());
    std::shared_ptr<Model> model = wrap->model(env);
    AnswerRequest request;
    if (!info[0].IsNumber()) throw invalid_argument(env, "imageId must be a number");
    request.image_id = uint64_t(info[0].As<Napi::Number>().Int64Value());
    if (info[1].IsTypedArray()) {
        Napi::TypedArray typed = info[1].As<Napi::TypedArray>();
        if (typed.TypedArrayType() != napi_float32_array) throw invalid_argument(env, "image rows must be a Float32Array");
        const int64_t width = model_width(*model);
        Napi::Float32Array rows = info[1].As<Napi::Float32Array>();
        if (width <= 0 || int64_t(rows.ElementLength()) % width != 0) {
            throw invalid_argument(env, "image rows must be a whole number of rows of the text model's width (" + std::to_string(width) + ")");
        }
        request.rows = rows.Data();
        request.n_rows = int(int64_t(rows.ElementLength()) / width);
    } else if (!info[1].IsNull() && !info[1].IsUndefined()) {
        throw invalid_argument(env, "image rows must be a Float32Array or null");
    }
    request.prefix_tokens = int32_array(env, info[2], "prefix tokens");
    request.suffix_tokens = int32_array(env, info[3], "suffix tokens");
    request.params = read_generate_params(env, info[4]);
    Napi::Object options = info[4].As<Napi::Object>();
    Napi::Value strip = options.Get("stripSuffixes");
    if (strip.IsArray()) {
        Napi::Array array = strip.As<Napi::Array>();
        for (uint32_t i = 0; i < array.Length(); ++i) request.strip_suffixes.push_back(array.Get(i).ToString().Utf8Value());
    }
    Napi::Function on_piece = info[5].IsFunction() ? info[5].As<Napi::Function>()
                                                   : Napi::Function::New(env, [](const Napi::CallbackInfo &) {});
    auto outcome = std::make_shared<AnswerOutcome>(env);
    Napi::ThreadSafeFunction deliver = Napi::ThreadSafeFunction::New(env, on_piece, "moondream:pieces", 0, 1, [outcome](Napi::Env env) {
        if (!outcome->result) {
            outcome->deferred.Reject(make_js_error(env, Error{ErrorCode::internal, "answering ended without a result"}).Value());
        } else if (outcome->result->ok()) {
            outcome->deferred.Resolve(result_to_js(env, outcome->result->value()));
        } else {
            outcome->deferred.Reject(make_js_error(env, outcome->result->error()).Value());
        }
    });
    Napi::Promise promise = outcome->deferred.Promise();
    auto * worker = new AnswerWorker(env, std::move(model), wrap->session_slot(), std::move(request), info[1], deliver, outcome,
                                     AbortFlagWrap::from(info[6]));
    worker->Queue();  // node-addon-api deletes the worker when it completes
    return promise;
}

}  // namespace moondream::addon
