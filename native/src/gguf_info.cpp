// Reads a GGUF file's metadata and tensor table with ggml's gguf API, after our own checks of
// the fixed header: ggml's reader is careful, but a hostile count can still make it scan for a
// very long time (its duplicate checks are quadratic), and its reasons only reach the log.
#include <cstring>
#include <memory>

#include "file_handle.h"
#include "ggml.h"
#include "gguf.h"
#include "log_capture.h"
#include "moondream.h"

namespace moondream {

namespace {

struct GgufFree {
    void operator()(gguf_context * ctx) const { gguf_free(ctx); }
};
using GgufPtr = std::unique_ptr<gguf_context, GgufFree>;

// Far above any real model (the largest published GGUFs have a few thousand tensors and tens of
// metadata keys), far below counts that would make loading hang.
constexpr int64_t kMaxTensors = 1 << 16;
constexpr int64_t kMaxMetadata = 1 << 16;
// Smallest possible encodings, to reject counts the file cannot possibly hold.
constexpr int64_t kMinKvBytes = 8 + 1 + 4 + 1;          // key length, 1-char key, type, u8 value
constexpr int64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;  // name length, n_dims, one dim, type, offset
constexpr int64_t kHeaderBytes = 4 + 4 + 8 + 8;

Error format_error(const std::string & path, const std::string & what) {
    return {ErrorCode::model_format, "'" + path + "' is not a valid GGUF file: " + what};
}

template <typename T>
T read_le(const unsigned char * bytes) {
    T value;
    std::memcpy(&value, bytes, sizeof(T));  // GGUF is little-endian, as are all targets we build for
    return value;
}

std::optional<Error> check_fixed_header(std::FILE * file, long long size, const std::string & path) {
    unsigned char header[kHeaderBytes] = {};
    const size_t got = std::fread(header, 1, sizeof(header), file);
    if (got < 4) {
        return format_error(path, "the file is " + std::to_string(size) + " bytes, too short for the GGUF magic");
    }
    if (std::memcmp(header, "GGUF", 4) != 0) {
        char shown[5] = {};
        for (int i = 0; i < 4; ++i) shown[i] = (header[i] >= 32 && header[i] < 127) ? char(header[i]) : '?';
        return format_error(path, std::string("it starts with '") + shown + "' instead of the magic 'GGUF'");
    }
    if (got < sizeof(header)) {
        return format_error(path, "the header is truncated (" + std::to_string(size) + " bytes; a GGUF header needs " +
                                      std::to_string(kHeaderBytes) + ")");
    }
    const uint32_t version = read_le<uint32_t>(header + 4);
    if (version < 2 || version > 3) {
        return format_error(path, "GGUF version " + std::to_string(version) + " is not supported (only versions 2 and 3 are)");
    }
    const int64_t n_tensors = read_le<int64_t>(header + 8);
    const int64_t n_kv = read_le<int64_t>(header + 16);
    if (n_tensors < 0 || n_tensors > kMaxTensors) {
        return format_error(path, "it declares " + std::to_string(n_tensors) + " tensors (at most " +
                                      std::to_string(kMaxTensors) + " are accepted)");
    }
    if (n_kv < 0 || n_kv > kMaxMetadata) {
        return format_error(path, "it declares " + std::to_string(n_kv) + " metadata entries (at most " +
                                      std::to_string(kMaxMetadata) + " are accepted)");
    }
    const int64_t needed = kHeaderBytes + n_kv * kMinKvBytes + n_tensors * kMinTensorInfoBytes;
    if (needed > size) {
        return format_error(path, "it declares " + std::to_string(n_kv) + " metadata entries and " +
                                      std::to_string(n_tensors) + " tensors, which cannot fit in its " +
                                      std::to_string(size) + " bytes (truncated or corrupt)");
    }
    return std::nullopt;
}

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

std::string join_dims(const int64_t * ne) {
    std::string out;
    for (int i = 0; i < GGML_MAX_DIMS; ++i) out += (i ? ", " : "") + std::to_string(ne[i]);
    return out;
}

// Bytes of a tensor, or nothing if a dimension is larger than the file could ever hold or the
// size overflows 64 bits. ggml's reader already checked the type and the block divisibility.
std::optional<uint64_t> checked_tensor_bytes(ggml_type type, const int64_t * ne, uint64_t file_size) {
    const uint64_t block = uint64_t(ggml_blck_size(type));
    const uint64_t limit = (file_size + 1) * block;
    uint64_t bytes = uint64_t(ggml_type_size(type));
    for (int i = 0; i < GGML_MAX_DIMS; ++i) {
        if (ne[i] < 0 || uint64_t(ne[i]) > limit) return std::nullopt;
        const uint64_t factor = i == 0 ? uint64_t(ne[0]) / block : uint64_t(ne[i]);
        if (__builtin_mul_overflow(bytes, factor, &bytes)) return std::nullopt;
    }
    return bytes;
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
    std::string why;
    FilePtr file = open_regular_file(path, why);
    if (!file) return Error{ErrorCode::io, why};
    const long long size = file_size(file.get());
    if (size < 0) return Error{ErrorCode::io, "cannot read the size of '" + path + "'"};
    if (auto error = check_fixed_header(file.get(), size, path)) return *error;
    std::rewind(file.get());

    LogCapture log;
    gguf_init_params params = {/*no_alloc =*/true, /*ctx =*/nullptr};
    GgufPtr ctx(gguf_init_from_file_ptr(file.get(), params));
    if (!ctx) {
        const std::string reason = log.text();
        return format_error(path, reason.empty() ? "ggml's reader refused it" : reason);
    }

    GgufInfo info;
    info.version = gguf_get_version(ctx.get());
    info.alignment = gguf_get_alignment(ctx.get());
    info.data_offset = gguf_get_data_offset(ctx.get());
    info.file_size = static_cast<uint64_t>(size);

    const int64_t n_kv = gguf_get_n_kv(ctx.get());
    info.metadata.reserve(size_t(n_kv));
    for (int64_t id = 0; id < n_kv; ++id) {
        info.metadata.emplace_back(gguf_get_key(ctx.get(), id), read_value(ctx.get(), id));
    }

    const int64_t n_tensors = gguf_get_n_tensors(ctx.get());
    info.tensors.reserve(size_t(n_tensors));
    for (int64_t id = 0; id < n_tensors; ++id) {
        GgufTensorInfo tensor;
        tensor.name = gguf_get_tensor_name(ctx.get(), id);
        const ggml_type type = gguf_get_tensor_type(ctx.get(), id);
        tensor.type = int(type);
        tensor.type_name = ggml_type_name(type);
        const int64_t * ne = gguf_get_tensor_ne(ctx.get(), id);
        int n_dims = GGML_MAX_DIMS;
        while (n_dims > 1 && ne[n_dims - 1] == 1) --n_dims;
        tensor.shape.assign(ne, ne + n_dims);
        tensor.offset = gguf_get_tensor_offset(ctx.get(), id);
        // ggml's own overflow guard is skipped when the element count itself wraps to 0 (for
        // example 2^40 x 2^40), which would report such a tensor as 0 bytes. Recompute exactly.
        const std::optional<uint64_t> bytes = checked_tensor_bytes(type, ne, info.file_size);
        if (!bytes) {
            return format_error(path, "tensor '" + tensor.name + "' has an impossible shape [" + join_dims(ne) +
                                          "] for a file of " + std::to_string(info.file_size) + " bytes");
        }
        tensor.size = *bytes;
        // ggml checks offsets against each other, not against the file: a truncated file would
        // only show up later as a read past the end of an mmap.
        const uint64_t end = info.data_offset + tensor.offset + tensor.size;
        if (end > info.file_size || end < tensor.offset) {
            return format_error(path, "tensor '" + tensor.name + "' (" + std::to_string(tensor.size) + " bytes at offset " +
                                          std::to_string(info.data_offset + tensor.offset) + ") extends past the end of the file (" +
                                          std::to_string(info.file_size) + " bytes): the file is truncated");
        }
        info.tensors.push_back(std::move(tensor));
    }
    return info;
}

}  // namespace moondream
