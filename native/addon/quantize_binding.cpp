// quantize(typeId, Float32Array, nPerRow, threads): ggml's quantizers on a worker thread, for the
// converter. The result is handed to JS without a copy.
#include <memory>

#include "bindings.h"
#include "moondream_tools.h"
#include "js_errors.h"

namespace moondream::addon {

namespace {

class QuantizeWorker : public Napi::AsyncWorker {
public:
    QuantizeWorker(Napi::Env env, Napi::Float32Array input, int type, int64_t n_per_row, int threads)
        : Napi::AsyncWorker(env, "moondream:quantize"),
          input_(Napi::Persistent(input)),  // keeps the source alive while the worker reads it
          data_(input.Data()),
          count_(int64_t(input.ElementLength())),
          type_(type),
          n_per_row_(n_per_row),
          threads_(threads),
          deferred_(env) {}

    Napi::Promise promise() const { return deferred_.Promise(); }

    void Execute() override {
        result_.emplace(quantize_rows(type_, data_, count_ / n_per_row_, n_per_row_, threads_));
    }

    void OnOK() override {
        Napi::Env env = Env();
        if (!result_->ok()) {
            deferred_.Reject(make_js_error(env, result_->error()).Value());
            return;
        }
        auto bytes = std::make_unique<std::vector<uint8_t>>(std::move(result_->value()));
        uint8_t * pointer = bytes->data();
        const size_t length = bytes->size();
        Napi::Buffer<uint8_t> buffer = Napi::Buffer<uint8_t>::New(
            env, pointer, length, [](Napi::Env, uint8_t *, std::vector<uint8_t> * owned) { delete owned; }, bytes.get());
        bytes.release();  // now owned by the Buffer's finalizer
        deferred_.Resolve(buffer);
    }

private:
    Napi::Reference<Napi::Float32Array> input_;
    const float * data_;
    int64_t count_;
    int type_;
    int64_t n_per_row_;
    int threads_;
    Napi::Promise::Deferred deferred_;
    std::optional<Result<std::vector<uint8_t>>> result_;
};

}  // namespace

Napi::Value QuantizeBinding(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (info.Length() < 4 || !info[0].IsNumber() || !info[1].IsTypedArray() || !info[2].IsNumber() || !info[3].IsNumber()) {
        throw invalid_argument(env, "quantize expects (typeId, Float32Array, nPerRow, threads)");
    }
    Napi::TypedArray typed = info[1].As<Napi::TypedArray>();
    if (typed.TypedArrayType() != napi_float32_array) throw invalid_argument(env, "quantize expects a Float32Array");
    const int64_t n_per_row = info[2].As<Napi::Number>().Int64Value();
    if (n_per_row <= 0 || int64_t(typed.ElementLength()) % n_per_row != 0) {
        throw invalid_argument(env, "quantize: the value count is not a whole number of rows");
    }
    auto * worker = new QuantizeWorker(env, info[1].As<Napi::Float32Array>(), info[0].As<Napi::Number>().Int32Value(), n_per_row,
                                       info[3].As<Napi::Number>().Int32Value());
    Napi::Promise promise = worker->promise();
    worker->Queue();  // node-addon-api deletes the worker when it completes
    return promise;
}

}  // namespace moondream::addon
