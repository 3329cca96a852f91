// See gguf_file.h. ggml's reader is careful, but a hostile count can still make it scan for a
// very long time (its duplicate checks are quadratic), its overflow guard misses element counts
// that wrap to zero, and its reasons only reach the log.
#include "gguf_file.h"

#include <cstring>
#include <optional>

#include "file_handle.h"
#include "gguf_prescan.h"
#include "little_endian.h"
#include "log_capture.h"

namespace moondream {

namespace {

// Far above any real model (the largest published GGUFs have a few thousand tensors and tens of
// metadata keys), far below counts that would make loading hang.
constexpr int64_t kMaxTensors = 1 << 16;
constexpr int64_t kMaxMetadata = 1 << 16;
// Smallest possible encodings, to reject counts the file cannot possibly hold.
constexpr int64_t kMinKvBytes = 8 + 1 + 4 + 1;          // key length, 1-char key, type, u8 value
constexpr int64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;  // name length, n_dims, one dim, type, offset
constexpr int64_t kHeaderBytes = 4 + 4 + 8 + 8;

std::optional<Error> check_fixed_header(std::FILE * file, long long size, const std::string & path) {
    unsigned char header[kHeaderBytes] = {};
    const size_t got = std::fread(header, 1, sizeof(header), file);
    if (got < 4) {
        return gguf_format_error(path, "the file is " + std::to_string(size) + " bytes, too short for the GGUF magic");
    }
    if (std::memcmp(header, "GGUF", 4) != 0) {
        char shown[5] = {};
        for (int i = 0; i < 4; ++i) shown[i] = (header[i] >= 32 && header[i] < 127) ? char(header[i]) : '?';
        return gguf_format_error(path, std::string("it starts with '") + shown + "' instead of the magic 'GGUF'");
    }
    if (got < sizeof(header)) {
        return gguf_format_error(path, "the header is truncated (" + std::to_string(size) + " bytes; a GGUF header needs " +
                                      std::to_string(kHeaderBytes) + ")");
    }
    const uint32_t version = read_le<uint32_t>(header + 4);
    if (version < 2 || version > 3) {
        return gguf_format_error(path, "GGUF version " + std::to_string(version) + " is not supported (only versions 2 and 3 are)");
    }
    const int64_t n_tensors = read_le<int64_t>(header + 8);
    const int64_t n_kv = read_le<int64_t>(header + 16);
    if (n_tensors < 0 || n_tensors > kMaxTensors) {
        return gguf_format_error(path, "it declares " + std::to_string(n_tensors) + " tensors (at most " +
                                      std::to_string(kMaxTensors) + " are accepted)");
    }
    if (n_kv < 0 || n_kv > kMaxMetadata) {
        return gguf_format_error(path, "it declares " + std::to_string(n_kv) + " metadata entries (at most " +
                                      std::to_string(kMaxMetadata) + " are accepted)");
    }
    const int64_t needed = kHeaderBytes + n_kv * kMinKvBytes + n_tensors * kMinTensorInfoBytes;
    if (needed > size) {
        return gguf_format_error(path, "it declares " + std::to_string(n_kv) + " metadata entries and " +
                                      std::to_string(n_tensors) + " tensors, which cannot fit in its " +
                                      std::to_string(size) + " bytes (truncated or corrupt)");
    }
    return std::nullopt;
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

Result<GgufFile> open_gguf(const std::string & path, bool with_tensors) {
    std::string why;
    FilePtr file = open_regular_file(path, why);
    if (!file) return Error{ErrorCode::io, why};
    const long long size = file_size(file.get());
    if (size < 0) return Error{ErrorCode::io, "cannot read the size of '" + path + "'"};
    if (auto error = check_fixed_header(file.get(), size, path)) return *error;
    {
        unsigned char header[kHeaderBytes];
        std::rewind(file.get());
        if (std::fread(header, 1, sizeof(header), file.get()) != sizeof(header)) return gguf_format_error(path, "the header is truncated");
        int64_t n_tensors = 0;
        int64_t n_kv = 0;
        std::memcpy(&n_tensors, header + 8, 8);
        std::memcpy(&n_kv, header + 16, 8);
        if (auto error = prescan_gguf(file.get(), uint64_t(size), path, n_kv, n_tensors)) return *error;
    }
    std::rewind(file.get());

    GgufFile out;
    out.file_size = uint64_t(size);
    LogCapture log;
    ggml_context * meta = nullptr;
    gguf_init_params params = {/*no_alloc =*/true, /*ctx =*/with_tensors ? &meta : nullptr};
    out.gguf.reset(gguf_init_from_file_ptr(file.get(), params));
    out.meta.reset(meta);
    if (!out.gguf) {
        const std::string reason = log.text();
        return gguf_format_error(path, reason.empty() ? "ggml's reader refused it" : reason);
    }

    const uint64_t data_offset = gguf_get_data_offset(out.gguf.get());
    const int64_t n_tensors = gguf_get_n_tensors(out.gguf.get());
    for (int64_t id = 0; id < n_tensors; ++id) {
        const char * name = gguf_get_tensor_name(out.gguf.get(), id);
        const ggml_type type = gguf_get_tensor_type(out.gguf.get(), id);
        const int64_t * ne = gguf_get_tensor_ne(out.gguf.get(), id);
        const std::optional<uint64_t> bytes = checked_tensor_bytes(type, ne, out.file_size);
        if (!bytes) {
            return gguf_format_error(path, std::string("tensor '") + name + "' has an impossible shape [" + join_dims(ne) +
                                               "] for a file of " + std::to_string(out.file_size) + " bytes");
        }
        // ggml checks offsets against each other, not against the file: a truncated file would
        // only show up later as a read past the end of an mmap.
        const uint64_t offset = gguf_get_tensor_offset(out.gguf.get(), id);
        const uint64_t end = data_offset + offset + *bytes;
        if (end > out.file_size || end < offset) {
            return gguf_format_error(path, std::string("tensor '") + name + "' (" + std::to_string(*bytes) + " bytes at offset " +
                                               std::to_string(data_offset + offset) + ") extends past the end of the file (" +
                                               std::to_string(out.file_size) + " bytes): the file is truncated");
        }
    }
    return out;
}

}  // namespace moondream
