// readGgufInfo(path): parses on a libuv worker thread, builds the JS object on the JS thread.
#include "async_work.h"
#include "bindings.h"
#include "moondream_tools.h"
#include "js_errors.h"

namespace moondream::addon {

namespace {

Napi::Value scalar_to_js(Napi::Env env, GgufType type, const GgufScalar & scalar) {
    switch (type) {
        // 64-bit integers become BigInt so that no value is silently rounded.
        case GgufType::uint64: return Napi::BigInt::New(env, std::get<uint64_t>(scalar));
        case GgufType::int64: return Napi::BigInt::New(env, std::get<int64_t>(scalar));
        case GgufType::uint8:
        case GgufType::uint16:
        case GgufType::uint32: return Napi::Number::New(env, double(std::get<uint64_t>(scalar)));
        case GgufType::int8:
        case GgufType::int16:
        case GgufType::int32: return Napi::Number::New(env, double(std::get<int64_t>(scalar)));
        case GgufType::float32:
        case GgufType::float64: return Napi::Number::New(env, std::get<double>(scalar));
        case GgufType::boolean: return Napi::Boolean::New(env, std::get<bool>(scalar));
        case GgufType::string: return Napi::String::New(env, std::get<std::string>(scalar));
        case GgufType::array: break;
    }
    return env.Undefined();
}

Napi::Object value_to_js(Napi::Env env, const GgufValue & value) {
    Napi::Object out = Napi::Object::New(env);
    out.Set("type", gguf_type_label(value.type));
    if (value.type == GgufType::array) {
        out.Set("itemType", gguf_type_label(value.item_type));
        Napi::Array items = Napi::Array::New(env, value.items.size());
        for (size_t i = 0; i < value.items.size(); ++i) {
            items.Set(uint32_t(i), scalar_to_js(env, value.item_type, value.items[i]));
        }
        out.Set("value", items);
    } else {
        out.Set("value", scalar_to_js(env, value.type, value.items.front()));
    }
    return out;
}

Napi::Object info_to_js(Napi::Env env, const GgufInfo & info) {
    Napi::Object out = Napi::Object::New(env);
    out.Set("version", info.version);
    out.Set("alignment", Napi::Number::New(env, double(info.alignment)));
    out.Set("dataOffset", Napi::Number::New(env, double(info.data_offset)));
    out.Set("fileSize", Napi::Number::New(env, double(info.file_size)));

    Napi::Array metadata = Napi::Array::New(env, info.metadata.size());
    for (size_t i = 0; i < info.metadata.size(); ++i) {
        Napi::Object entry = value_to_js(env, info.metadata[i].second);
        entry.Set("key", info.metadata[i].first);
        metadata.Set(uint32_t(i), entry);
    }
    out.Set("metadata", metadata);

    Napi::Array tensors = Napi::Array::New(env, info.tensors.size());
    for (size_t i = 0; i < info.tensors.size(); ++i) {
        const GgufTensorInfo & tensor = info.tensors[i];
        Napi::Object entry = Napi::Object::New(env);
        entry.Set("name", tensor.name);
        entry.Set("type", tensor.type_name);
        entry.Set("typeId", tensor.type);
        Napi::Array shape = Napi::Array::New(env, tensor.shape.size());
        for (size_t d = 0; d < tensor.shape.size(); ++d) shape.Set(uint32_t(d), double(tensor.shape[d]));
        entry.Set("shape", shape);
        entry.Set("offset", Napi::Number::New(env, double(tensor.offset)));
        entry.Set("size", Napi::Number::New(env, double(tensor.size)));
        tensors.Set(uint32_t(i), entry);
    }
    out.Set("tensors", tensors);
    return out;
}

}  // namespace

Napi::Value ReadGgufInfoBinding(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString()) {
        throw invalid_argument(env, "readGgufInfo expects a file path string");
    }
    std::string path = info[0].As<Napi::String>().Utf8Value();
    return PromiseWorker<GgufInfo>::queue(
        env, "moondream:readGgufInfo", [path]() { return read_gguf_info(path); },
        [](Napi::Env env, GgufInfo & gguf) -> Napi::Value { return info_to_js(env, gguf); });
}

}  // namespace moondream::addon
