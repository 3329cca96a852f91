// quantize(typeId, Float32Array, nPerRow, threads): ggml's quantizers on a worker thread, for the
// converter. The result is handed to JS without a copy.
#include <memory>

#include "async_work.h"
#include "bindings.h"
#include "moondream_tools.h"
#include "js_errors.h"

namespace moondream::addon {

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
    Napi::Float32Array input = info[1].As<Napi::Float32Array>();
    const float * data = input.Data();  // read in place: the array is kept alive until the work ends
    const int64_t n_rows = int64_t(input.ElementLength()) / n_per_row;
    const int type = info[0].As<Napi::Number>().Int32Value();
    const int threads = info[3].As<Napi::Number>().Int32Value();
    return PromiseWorker<std::vector<uint8_t>>::queue(
        env, "moondream:quantize", [=]() { return quantize_rows(type, data, n_rows, n_per_row, threads); },
        [](Napi::Env env, std::vector<uint8_t> & quantized) -> Napi::Value {
            auto bytes = std::make_unique<std::vector<uint8_t>>(std::move(quantized));
            uint8_t * pointer = bytes->data();
            const size_t length = bytes->size();
            Napi::Buffer<uint8_t> buffer = Napi::Buffer<uint8_t>::New(
                env, pointer, length, [](Napi::Env, uint8_t *, std::vector<uint8_t> * owned) { delete owned; }, bytes.get());
            bytes.release();  // now owned by the Buffer's finalizer
            return buffer;
        },
        {input});
}

}  // namespace moondream::addon
