// preprocessRgb(rgb, width, height, { imageSize, imageMean, imageStd }) -> Promise<Float32Array>
// and, for tests, resizeRgb(rgb, width, height, outWidth, outHeight) -> Promise<Uint8Array>. The
// work runs on a libuv worker thread; the JS array is kept alive by a reference until it is done.
#include <climits>
#include <cmath>
#include <cstring>
#include <optional>

#include "async_work.h"
#include "bindings.h"
#include "js_errors.h"
#include "moondream_testing.h"

namespace moondream::addon {

namespace {

// A JS number that is an exact integer, or nothing. The core checks the ranges.
std::optional<int64_t> integer_arg(const Napi::Value & value) {
    if (!value.IsNumber()) return std::nullopt;
    const double number = value.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(number) || std::floor(number) != number || std::fabs(number) > 9007199254740991.0) {
        return std::nullopt;
    }
    return int64_t(number);
}

struct RgbArgs {
    Napi::Uint8Array rgb;
    std::vector<int64_t> sizes;
};

// Reads (rgb: Uint8Array, ...count integers); throws a JS ERR_INVALID_ARGUMENT otherwise.
RgbArgs rgb_args(const Napi::CallbackInfo & info, const char * signature, size_t count) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 + count || !info[0].IsTypedArray() ||
        info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
        throw invalid_argument(env, std::string("expected ") + signature);
    }
    RgbArgs args{info[0].As<Napi::Uint8Array>(), {}};
    for (size_t i = 0; i < count; ++i) {
        std::optional<int64_t> size = integer_arg(info[1 + i]);
        if (!size) throw invalid_argument(env, std::string("expected integer sizes: ") + signature);
        args.sizes.push_back(*size);
    }
    return args;
}

// Runs `compute` (a function of the pixel bytes returning Result<std::vector<T>>) on a worker
// thread, reading the JS array in place, and resolves with a typed array copy of the result.
template <typename T, typename TypedArray, typename Compute>
Napi::Value queue(Napi::Env env, const char * name, Napi::Uint8Array rgb, Compute compute) {
    const uint8_t * data = rgb.Data();
    const size_t size = rgb.ByteLength();
    return PromiseWorker<std::vector<T>>::queue(
        env, name, [compute, data, size]() { return compute(data, size); },
        [](Napi::Env env, std::vector<T> & values) -> Napi::Value {
            TypedArray out = TypedArray::New(env, values.size());
            if (!values.empty()) std::memcpy(out.Data(), values.data(), values.size() * sizeof(T));
            return out;
        },
        {rgb});
}

constexpr const char * kPreprocessSignature =
    "preprocessRgb(rgb: Uint8Array, width: number, height: number, { imageSize: number, imageMean: number[3], imageStd: number[3] })";

// Three numbers of a JS array into `out`; the core checks their ranges.
bool read_channels(const Napi::Value & value, float * out) {
    if (!value.IsArray()) return false;
    Napi::Array array = value.As<Napi::Array>();
    if (array.Length() != 3) return false;
    for (uint32_t c = 0; c < 3; ++c) {
        Napi::Value item = array.Get(c);
        if (!item.IsNumber()) return false;
        out[c] = float(item.As<Napi::Number>().DoubleValue());
    }
    return true;
}

PreprocessParams preprocess_params_arg(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (info.Length() < 4 || !info[3].IsObject()) throw invalid_argument(env, std::string("expected ") + kPreprocessSignature);
    Napi::Object object = info[3].As<Napi::Object>();
    PreprocessParams params;
    std::optional<int64_t> side = integer_arg(object.Get("imageSize"));
    if (!side || *side < 1 || *side > INT32_MAX || !read_channels(object.Get("imageMean"), params.mean) ||
        !read_channels(object.Get("imageStd"), params.std)) {
        throw invalid_argument(env, std::string("expected ") + kPreprocessSignature);
    }
    params.image_size = int(*side);
    return params;
}

}  // namespace

Napi::Value PreprocessRgbBinding(const Napi::CallbackInfo & info) {
    RgbArgs args = rgb_args(info, kPreprocessSignature, 2);
    const int64_t width = args.sizes[0];
    const int64_t height = args.sizes[1];
    const PreprocessParams params = preprocess_params_arg(info);
    return queue<float, Napi::Float32Array>(info.Env(), "moondream:preprocessRgb", args.rgb,
        [width, height, params](const uint8_t * data, size_t size) { return preprocess_rgb(data, size, width, height, params); });
}

Napi::Value ResizeRgbBinding(const Napi::CallbackInfo & info) {
    RgbArgs args = rgb_args(info,
        "resizeRgb(rgb: Uint8Array, width: number, height: number, outWidth: number, outHeight: number)", 4);
    const std::vector<int64_t> s = args.sizes;
    return queue<uint8_t, Napi::Uint8Array>(info.Env(), "moondream:resizeRgb", args.rgb,
        [s](const uint8_t * data, size_t size) { return resize_rgb_bicubic(data, size, s[0], s[1], s[2], s[3]); });
}

}  // namespace moondream::addon
