#include "gguf_keys.h"

#include "little_endian.h"

namespace moondream {

namespace {

bool is_integer_type(gguf_type type) {
    switch (type) {
        case GGUF_TYPE_UINT8: case GGUF_TYPE_INT8: case GGUF_TYPE_UINT16: case GGUF_TYPE_INT16:
        case GGUF_TYPE_UINT32: case GGUF_TYPE_INT32: case GGUF_TYPE_UINT64: case GGUF_TYPE_INT64:
            return true;
        default:
            return false;
    }
}

// Reads element `i` of integer data of `type`; false if a uint64 does not fit in int64.
bool integer_at(gguf_type type, const unsigned char * data, size_t i, int64_t & out) {
    switch (type) {
        case GGUF_TYPE_UINT8: out = read_le<uint8_t>(data + i); return true;
        case GGUF_TYPE_INT8: out = read_le<int8_t>(data + i); return true;
        case GGUF_TYPE_UINT16: out = read_le<uint16_t>(data + 2 * i); return true;
        case GGUF_TYPE_INT16: out = read_le<int16_t>(data + 2 * i); return true;
        case GGUF_TYPE_UINT32: out = read_le<uint32_t>(data + 4 * i); return true;
        case GGUF_TYPE_INT32: out = read_le<int32_t>(data + 4 * i); return true;
        case GGUF_TYPE_INT64: out = read_le<int64_t>(data + 8 * i); return true;
        case GGUF_TYPE_UINT64: {
            const uint64_t value = read_le<uint64_t>(data + 8 * i);
            if (value > uint64_t(INT64_MAX)) return false;
            out = int64_t(value);
            return true;
        }
        default: return false;
    }
}

}  // namespace

int64_t GgufKeys::find(const std::string & key) const { return gguf_find_key(ctx_, key.c_str()); }

bool GgufKeys::has(const std::string & key) const { return find(key) >= 0; }

Error GgufKeys::error(const std::string & key, const std::string & problem) const {
    return {ErrorCode::model_format, "'" + path_ + "': metadata key " + key + " " + problem};
}

Result<int64_t> GgufKeys::integer(const std::string & key, int64_t min, int64_t max) const {
    const int64_t id = find(key);
    if (id < 0) return error(key, "is missing");
    const gguf_type type = gguf_get_kv_type(ctx_, id);
    int64_t value = 0;
    if (!is_integer_type(type) || !integer_at(type, static_cast<const unsigned char *>(gguf_get_val_data(ctx_, id)), 0, value)) {
        return error(key, std::string("has type ") + gguf_type_name(type) + ", expected an integer");
    }
    if (value < min || value > max) {
        return error(key, "is " + std::to_string(value) + ", expected a value in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
    }
    return value;
}

Result<int64_t> GgufKeys::integer_or(const std::string & key, int64_t fallback, int64_t min, int64_t max) const {
    return has(key) ? integer(key, min, max) : Result<int64_t>(fallback);
}

Result<double> GgufKeys::number(const std::string & key) const {
    const int64_t id = find(key);
    if (id < 0) return error(key, "is missing");
    const gguf_type type = gguf_get_kv_type(ctx_, id);
    if (type == GGUF_TYPE_FLOAT32) return double(gguf_get_val_f32(ctx_, id));
    if (type == GGUF_TYPE_FLOAT64) return gguf_get_val_f64(ctx_, id);
    return error(key, std::string("has type ") + gguf_type_name(type) + ", expected a float");
}

Result<double> GgufKeys::number_or(const std::string & key, double fallback) const {
    return has(key) ? number(key) : Result<double>(fallback);
}

Result<bool> GgufKeys::boolean_or(const std::string & key, bool fallback) const {
    const int64_t id = find(key);
    if (id < 0) return fallback;
    const gguf_type type = gguf_get_kv_type(ctx_, id);
    if (type != GGUF_TYPE_BOOL) return error(key, std::string("has type ") + gguf_type_name(type) + ", expected bool");
    return gguf_get_val_bool(ctx_, id);
}

Result<std::string> GgufKeys::string(const std::string & key) const {
    const int64_t id = find(key);
    if (id < 0) return error(key, "is missing");
    const gguf_type type = gguf_get_kv_type(ctx_, id);
    if (type != GGUF_TYPE_STRING) return error(key, std::string("has type ") + gguf_type_name(type) + ", expected a string");
    return std::string(gguf_get_val_str(ctx_, id));
}

Result<std::string> GgufKeys::string_or(const std::string & key, const std::string & fallback) const {
    return has(key) ? string(key) : Result<std::string>(fallback);
}

Result<std::vector<int64_t>> GgufKeys::integers(const std::string & key) const {
    const int64_t id = find(key);
    if (id < 0) return error(key, "is missing");
    if (gguf_get_kv_type(ctx_, id) != GGUF_TYPE_ARRAY || !is_integer_type(gguf_get_arr_type(ctx_, id))) {
        return error(key, "is not an array of integers");
    }
    const gguf_type type = gguf_get_arr_type(ctx_, id);
    const size_t n = gguf_get_arr_n(ctx_, id);
    const auto * data = static_cast<const unsigned char *>(gguf_get_arr_data(ctx_, id));
    std::vector<int64_t> out(n);
    for (size_t i = 0; i < n; ++i) {
        if (!integer_at(type, data, i, out[i])) return error(key, "holds a value that does not fit in 64 bits");
    }
    return out;
}

Result<std::vector<double>> GgufKeys::numbers(const std::string & key) const {
    const int64_t id = find(key);
    if (id < 0) return error(key, "is missing");
    const bool is_array = gguf_get_kv_type(ctx_, id) == GGUF_TYPE_ARRAY;
    const gguf_type type = is_array ? gguf_get_arr_type(ctx_, id) : GGUF_TYPE_COUNT;
    if (!is_array || (type != GGUF_TYPE_FLOAT32 && type != GGUF_TYPE_FLOAT64)) return error(key, "is not an array of floats");
    const size_t n = gguf_get_arr_n(ctx_, id);
    const auto * data = static_cast<const unsigned char *>(gguf_get_arr_data(ctx_, id));
    std::vector<double> out(n);
    for (size_t i = 0; i < n; ++i) out[i] = type == GGUF_TYPE_FLOAT32 ? double(read_le<float>(data + 4 * i)) : read_le<double>(data + 8 * i);
    return out;
}

Result<std::vector<std::string>> GgufKeys::strings(const std::string & key) const {
    const int64_t id = find(key);
    if (id < 0) return error(key, "is missing");
    if (gguf_get_kv_type(ctx_, id) != GGUF_TYPE_ARRAY || gguf_get_arr_type(ctx_, id) != GGUF_TYPE_STRING) {
        return error(key, "is not an array of strings");
    }
    const size_t n = gguf_get_arr_n(ctx_, id);
    std::vector<std::string> out;
    out.reserve(n);
    for (size_t i = 0; i < n; ++i) out.emplace_back(gguf_get_arr_str(ctx_, id, i));
    return out;
}

}  // namespace moondream
