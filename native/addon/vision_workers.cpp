// Image encoding on a libuv worker thread.
#include "vision_workers.h"

#include "abort_flag.h"
#include "js_errors.h"
#include "model_wrap.h"

namespace moondream::addon {

namespace {

class EncodeWorker : public Napi::AsyncWorker {
public:
    EncodeWorker(Napi::Env env, std::shared_ptr<Model> model, std::shared_ptr<SessionSlot> slot, std::vector<float> pixels,
                 std::shared_ptr<std::atomic<bool>> abort)
        : Napi::AsyncWorker(env, "moondream:encodeImage"), model_(std::move(model)), slot_(std::move(slot)), pixels_(std::move(pixels)),
          abort_(std::move(abort)), deferred_(env) {}

    Napi::Promise promise() const { return deferred_.Promise(); }

    void Execute() override {
        std::lock_guard<std::mutex> lock(slot_->mutex);
        if (Status status = slot_->ensure(model_)) {
            result_.emplace(*status);
            return;
        }
        result_.emplace(encode_image(*slot_->session, pixels_.data(), pixels_.size(), abort_.get()));
    }

    void OnOK() override {
        Napi::Env env = Env();
        if (!result_->ok()) {
            deferred_.Reject(make_js_error(env, result_->error()).Value());
            return;
        }
        ImageEmbeddings & image = result_->value();
        // Hand the rows to JS without copying: the ArrayBuffer owns the vector from now on.
        auto owned = std::make_unique<std::vector<float>>(std::move(image.data));
        float * data = owned->data();
        const size_t bytes = owned->size() * sizeof(float);
        Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(
            env, data, bytes, [](Napi::Env, void *, std::vector<float> * rows) { delete rows; }, owned.get());
        owned.release();
        Napi::Object out = Napi::Object::New(env);
        out.Set("embeddings", Napi::Float32Array::New(env, bytes / sizeof(float), buffer, 0));
        out.Set("rows", image.n_rows);
        out.Set("width", image.n_embd);
        out.Set("encodeMs", image.encode_ms);
        deferred_.Resolve(out);
    }

private:
    std::shared_ptr<Model> model_;
    std::shared_ptr<SessionSlot> slot_;
    std::vector<float> pixels_;
    std::shared_ptr<std::atomic<bool>> abort_;
    Napi::Promise::Deferred deferred_;
    std::optional<Result<ImageEmbeddings>> result_;
};

}  // namespace

Napi::Value EncodePixelsBinding(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    ModelWrap * wrap = ModelWrap::Unwrap(info.This().As<Napi::Object>());
    if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
        throw invalid_argument(env, "encodePixels expects a Float32Array of normalised CHW pixels");
    }
    Napi::Float32Array pixels = info[0].As<Napi::Float32Array>();
    // Copied so JS may reuse its array while the worker runs (3 x 378 x 378 floats, 1.7 MB).
    std::vector<float> copy(pixels.Data(), pixels.Data() + pixels.ElementLength());
    auto * worker = new EncodeWorker(env, wrap->model(env), wrap->session_slot(), std::move(copy), AbortFlagWrap::from(info[1]));
    Napi::Promise promise = worker->promise();
    worker->Queue();  // node-addon-api deletes the worker when it completes
    return promise;
}

}  // namespace moondream::addon
