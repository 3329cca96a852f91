#include "js_values.h"

#include <algorithm>
#include <memory>

#include "js_errors.h"

namespace moondream::addon {

std::vector<int32_t> read_int32_array(Napi::Env env, const Napi::Value & value, const char * what) {
    if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
        throw invalid_argument(env, std::string(what) + " must be an Int32Array");
    }
    Napi::Int32Array array = value.As<Napi::Int32Array>();
    return std::vector<int32_t>(array.Data(), array.Data() + array.ElementLength());
}

FloatRows read_float_rows(Napi::Env env, const Napi::Value & value, int64_t width, const char * what) {
    if (value.IsNull() || value.IsUndefined()) return {};
    if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
        throw invalid_argument(env, std::string(what) + " must be a Float32Array");
    }
    Napi::Float32Array rows = value.As<Napi::Float32Array>();
    if (width <= 0 || int64_t(rows.ElementLength()) % width != 0) {
        throw invalid_argument(env, std::string(what) + " must be a whole number of rows of the text model's width (" +
                                        std::to_string(width) + ")");
    }
    return {rows.Data(), size_t(int64_t(rows.ElementLength()) / width)};
}

double number_option(const Napi::Object & options, const char * key, double fallback) {
    Napi::Value value = options.Get(key);
    return value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : fallback;
}

std::string string_option(const Napi::Object & options, const char * key, const std::string & fallback) {
    Napi::Value value = options.Get(key);
    return value.IsString() ? value.As<Napi::String>().Utf8Value() : fallback;
}

bool bool_option(const Napi::Object & options, const char * key, bool fallback) {
    Napi::Value value = options.Get(key);
    return value.IsBoolean() ? value.As<Napi::Boolean>().Value() : fallback;
}

GenerateParams read_generate_params(Napi::Env env, const Napi::Value & value) {
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
    if (stops.IsTypedArray()) params.stop_token_ids = read_int32_array(env, stops, "stopTokenIds");
    return params;
}

Napi::Int32Array int32_array(Napi::Env env, const std::vector<int32_t> & values) {
    Napi::Int32Array out = Napi::Int32Array::New(env, values.size());
    std::copy(values.begin(), values.end(), out.Data());
    return out;
}

Napi::Array number_array(Napi::Env env, const std::vector<int> & values) {
    Napi::Array out = Napi::Array::New(env, values.size());
    for (size_t i = 0; i < values.size(); ++i) out.Set(uint32_t(i), values[i]);
    return out;
}

Napi::Array string_array(Napi::Env env, const std::vector<std::string> & values) {
    Napi::Array out = Napi::Array::New(env, values.size());
    for (size_t i = 0; i < values.size(); ++i) out.Set(uint32_t(i), values[i]);
    return out;
}

Napi::Float32Array adopt_float32_array(Napi::Env env, std::vector<float> && values) {
    if (values.empty()) return Napi::Float32Array::New(env, 0);
    auto owned = std::make_unique<std::vector<float>>(std::move(values));
    float * data = owned->data();
    const size_t count = owned->size();
    Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(
        env, data, count * sizeof(float), [](Napi::Env, void *, std::vector<float> * rows) { delete rows; }, owned.get());
    owned.release();  // now owned by the ArrayBuffer's finalizer
    return Napi::Float32Array::New(env, count, buffer, 0);
}

}  // namespace moondream::addon
