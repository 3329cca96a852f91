#include "gguf_prescan.h"

#include <sys/types.h>

#include "ggml.h"

namespace moondream {

namespace {

constexpr uint32_t kGgufTypeCount = 13;  // uint8 .. float64
constexpr uint32_t kGgufString = 8;
constexpr uint32_t kGgufArray = 9;

size_t scalar_size(uint32_t type) {
    switch (type) {
        case 0: case 1: case 7: return 1;   // u8, i8, bool
        case 2: case 3: return 2;           // u16, i16
        case 4: case 5: case 6: return 4;   // u32, i32, f32
        case 10: case 11: case 12: return 8;  // u64, i64, f64
        default: return 0;                  // string / array: variable
    }
}

class Scanner {
public:
    Scanner(std::FILE * file, uint64_t size) : file_(file), size_(size) {}

    uint64_t remaining() const { return size_ - position(); }

    bool read(void * out, size_t bytes) { return std::fread(out, 1, bytes, file_) == bytes; }

    template <typename T>
    bool value(T & out) { return read(&out, sizeof(T)); }

    bool skip(uint64_t bytes) {
        if (bytes > remaining()) return false;
        return fseeko(file_, off_t(bytes), SEEK_CUR) == 0;
    }

    // A GGUF string: u64 length then bytes, length bounded by what is left of the file.
    bool string(uint64_t max_length, std::string * out = nullptr) {
        uint64_t length = 0;
        if (!value(length) || length > remaining() || length > max_length) return false;
        if (out == nullptr) return skip(length);
        out->resize(size_t(length));
        return length == 0 || read(out->data(), size_t(length));
    }

private:
    uint64_t position() const { return uint64_t(ftello(file_)); }
    std::FILE * file_;
    uint64_t size_;
};

}  // namespace

Error gguf_format_error(const std::string & path, const std::string & what) {
    return {ErrorCode::model_format, "'" + path + "' is not a valid GGUF file: " + what};
}

std::optional<Error> prescan_gguf(std::FILE * file, uint64_t file_size, const std::string & path, int64_t n_kv, int64_t n_tensors) {
    Scanner in(file, file_size);
    auto fail = [&](const std::string & what) { return gguf_format_error(path, what); };

    for (int64_t i = 0; i < n_kv; ++i) {
        const std::string where = "metadata entry " + std::to_string(i);
        if (!in.string(1 << 16)) return fail(where + " has a key longer than the file or than 64 KiB");
        uint32_t type = 0;
        if (!in.value(type) || type >= kGgufTypeCount) return fail(where + " has an unknown value type");
        if (type != kGgufArray) {
            const bool ok = type == kGgufString ? in.string(in.remaining()) : in.skip(scalar_size(type));
            if (!ok) return fail(where + " has a value that runs past the end of the file");
            continue;
        }
        uint32_t item = 0;
        uint64_t count = 0;
        if (!in.value(item) || item >= kGgufTypeCount || item == kGgufArray) return fail(where + " is an array of an unknown or nested type");
        if (!in.value(count)) return fail(where + " is truncated");
        if (item == kGgufString) {
            if (count > in.remaining() / 8) return fail(where + " claims more strings than the file can hold");
            for (uint64_t j = 0; j < count; ++j) {
                if (!in.string(in.remaining())) return fail(where + " has a string that runs past the end of the file");
            }
        } else if (count > in.remaining() / scalar_size(item) || !in.skip(count * scalar_size(item))) {
            return fail(where + " claims more elements than the file can hold");
        }
    }

    for (int64_t i = 0; i < n_tensors; ++i) {
        std::string name;
        if (!in.string(GGML_MAX_NAME, &name)) return fail("tensor " + std::to_string(i) + " has a name longer than " + std::to_string(GGML_MAX_NAME) + " bytes or the file");
        uint32_t n_dims = 0;
        if (!in.value(n_dims) || n_dims > GGML_MAX_DIMS) return fail("tensor '" + name + "' has an invalid number of dimensions");
        int64_t ne[GGML_MAX_DIMS] = {1, 1, 1, 1};
        for (uint32_t d = 0; d < n_dims; ++d) {
            if (!in.value(ne[d]) || ne[d] < 0) return fail("tensor '" + name + "' has a negative or missing dimension");
        }
        uint32_t type = 0;
        if (!in.value(type) || type >= GGML_TYPE_COUNT) return fail("tensor '" + name + "' has an unknown type id " + std::to_string(type));
        const ggml_type_traits * traits = ggml_get_type_traits(static_cast<ggml_type>(type));
        if (traits == nullptr || traits->blck_size <= 0 || traits->type_size == 0) return fail("tensor '" + name + "' has a removed type id " + std::to_string(type));
        // No dimension may exceed what the file could hold (a zero elsewhere would hide it from the
        // byte count), and the bytes themselves must fit in the file: ggml then computes strides
        // and sizes without signed overflow.
        const uint64_t dim_limit = (file_size + 1) * uint64_t(traits->blck_size);
        uint64_t bytes = traits->type_size;
        for (int d = 0; d < GGML_MAX_DIMS; ++d) {
            if (uint64_t(ne[d]) > dim_limit) return fail("tensor '" + name + "' has a dimension of " + std::to_string(ne[d]) + ", more than the file can hold");
            const uint64_t factor = d == 0 ? uint64_t(ne[0]) / uint64_t(traits->blck_size) : uint64_t(ne[d]);
            if (__builtin_mul_overflow(bytes, factor, &bytes) || bytes > file_size) {
                return fail("tensor '" + name + "' is larger than the file");
            }
        }
        if (!in.skip(8)) return fail("tensor '" + name + "' is truncated");
    }
    return std::nullopt;
}

}  // namespace moondream
