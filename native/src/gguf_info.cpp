// Reads a GGUF file's metadata and tensor table into plain values (see gguf_file.cpp for the checks).
#include <cstring>
#include <memory>

#include "gguf_file.h"
#include "little_endian.h"
#include "ggml.h"
#include "gguf.h"
#include "moondream_tools.h"

namespace moondream {

namespace {

GgufValue read_value(const gguf_context * ctx, int64_t id) {
    GgufValue value;
    const gguf_type type = gguf_get_kv_type(ctx, id);
    value.type = static_cast<GgufType>(type);
    if (type != GGUF_TYPE_ARRAY) {
        value.item_type = value.type;
        switch (type) {
            case GGUF_TYPE_UINT8:   value.items.emplace_back(uint64_t(gguf_get_val_u8(ctx, id))); break;
            case GGUF_TYPE_INT8:    value.items.emplace_back(int64_t(gguf_get_val_i8(ctx, id))); break;
            case GGUF_TYPE_UINT16:  value.items.emplace_back(uint64_t(gguf_get_val_u16(ctx, id))); break;
            case GGUF_TYPE_INT16:   value.items.emplace_back(int64_t(gguf_get_val_i16(ctx, id))); break;
            case GGUF_TYPE_UINT32:  value.items.emplace_back(uint64_t(gguf_get_val_u32(ctx, id))); break;
            case GGUF_TYPE_INT32:   value.items.emplace_back(int64_t(gguf_get_val_i32(ctx, id))); break;
            case GGUF_TYPE_FLOAT32: value.items.emplace_back(double(gguf_get_val_f32(ctx, id))); break;
            case GGUF_TYPE_BOOL:    value.items.emplace_back(gguf_get_val_bool(ctx, id)); break;
            case GGUF_TYPE_STRING:  value.items.emplace_back(std::string(gguf_get_val_str(ctx, id))); break;
            case GGUF_TYPE_UINT64:  value.items.emplace_back(uint64_t(gguf_get_val_u64(ctx, id))); break;
            case GGUF_TYPE_INT64:   value.items.emplace_back(int64_t(gguf_get_val_i64(ctx, id))); break;
            case GGUF_TYPE_FLOAT64: value.items.emplace_back(double(gguf_get_val_f64(ctx, id))); break;
            default: break;  // unreachable: ggml's reader rejects unknown types
        }
        return value;
    }

    const gguf_type item = gguf_get_arr_type(ctx, id);
    value.item_type = static_cast<GgufType>(item);
    const size_t n = gguf_get_arr_n(ctx, id);
    value.items.reserve(n);
    if (item == GGUF_TYPE_STRING) {
        for (size_t i = 0; i < n; ++i) value.items.emplace_back(std::string(gguf_get_arr_str(ctx, id, i)));
        return value;
    }
    const auto * data = static_cast<const unsigned char *>(gguf_get_arr_data(ctx, id));
    for (size_t i = 0; i < n; ++i) {
        switch (item) {
            case GGUF_TYPE_UINT8:   value.items.emplace_back(uint64_t(read_le<uint8_t>(data + i))); break;
            case GGUF_TYPE_INT8:    value.items.emplace_back(int64_t(read_le<int8_t>(data + i))); break;
            case GGUF_TYPE_UINT16:  value.items.emplace_back(uint64_t(read_le<uint16_t>(data + 2 * i))); break;
            case GGUF_TYPE_INT16:   value.items.emplace_back(int64_t(read_le<int16_t>(data + 2 * i))); break;
            case GGUF_TYPE_UINT32:  value.items.emplace_back(uint64_t(read_le<uint32_t>(data + 4 * i))); break;
            case GGUF_TYPE_INT32:   value.items.emplace_back(int64_t(read_le<int32_t>(data + 4 * i))); break;
            case GGUF_TYPE_FLOAT32: value.items.emplace_back(double(read_le<float>(data + 4 * i))); break;
            case GGUF_TYPE_BOOL:    value.items.emplace_back(read_le<uint8_t>(data + i) != 0); break;
            case GGUF_TYPE_UINT64:  value.items.emplace_back(read_le<uint64_t>(data + 8 * i)); break;
            case GGUF_TYPE_INT64:   value.items.emplace_back(read_le<int64_t>(data + 8 * i)); break;
            case GGUF_TYPE_FLOAT64: value.items.emplace_back(read_le<double>(data + 8 * i)); break;
            default: break;  // unreachable: nested arrays are rejected by ggml's reader
        }
    }
    return value;
}

}  // namespace

const char * gguf_type_label(GgufType type) {
    switch (type) {
        case GgufType::uint8: return "uint8";
        case GgufType::int8: return "int8";
        case GgufType::uint16: return "uint16";
        case GgufType::int16: return "int16";
        case GgufType::uint32: return "uint32";
        case GgufType::int32: return "int32";
        case GgufType::float32: return "float32";
        case GgufType::boolean: return "bool";
        case GgufType::string: return "string";
        case GgufType::array: return "array";
        case GgufType::uint64: return "uint64";
        case GgufType::int64: return "int64";
        case GgufType::float64: return "float64";
    }
    return "unknown";
}

Result<GgufInfo> read_gguf_info(const std::string & path) {
    Result<GgufFile> opened = open_gguf(path, false);
    if (!opened.ok()) return opened.error();
    const gguf_context * ctx = opened.value().gguf.get();

    GgufInfo info;
    info.version = gguf_get_version(ctx);
    info.alignment = gguf_get_alignment(ctx);
    info.data_offset = gguf_get_data_offset(ctx);
    info.file_size = opened.value().file_size;

    const int64_t n_kv = gguf_get_n_kv(ctx);
    info.metadata.reserve(size_t(n_kv));
    for (int64_t id = 0; id < n_kv; ++id) info.metadata.emplace_back(gguf_get_key(ctx, id), read_value(ctx, id));

    const int64_t n_tensors = gguf_get_n_tensors(ctx);
    info.tensors.reserve(size_t(n_tensors));
    for (int64_t id = 0; id < n_tensors; ++id) {
        GgufTensorInfo tensor;
        tensor.name = gguf_get_tensor_name(ctx, id);
        const ggml_type type = gguf_get_tensor_type(ctx, id);
        tensor.type = int(type);
        tensor.type_name = ggml_type_name(type);
        const int64_t * ne = gguf_get_tensor_ne(ctx, id);
        int n_dims = GGML_MAX_DIMS;
        while (n_dims > 1 && ne[n_dims - 1] == 1) --n_dims;
        tensor.shape.assign(ne, ne + n_dims);
        tensor.offset = gguf_get_tensor_offset(ctx, id);
        tensor.size = gguf_get_tensor_size(ctx, id);  // exact: open_gguf rejected every shape that overflows
        info.tensors.push_back(std::move(tensor));
    }
    return info;
}

}  // namespace moondream
