#include "weight_file.h"

#include "ggml-cpu.h"

namespace moondream {

namespace {

std::string shape_text(const int64_t * ne) {
    int n = GGML_MAX_DIMS;
    while (n > 1 && ne[n - 1] == 1) --n;
    std::string out = "[";
    for (int i = 0; i < n; ++i) out += (i ? ", " : "") + std::to_string(ne[i]);
    return out + "]";
}

bool type_fits(ggml_type type, TensorUse use) {
    switch (use) {
        case TensorUse::vector: return type == GGML_TYPE_F32;
        case TensorUse::dense: return type == GGML_TYPE_F32 || type == GGML_TYPE_F16;
        case TensorUse::matrix: {
            const ggml_type_traits_cpu * cpu = ggml_get_type_traits_cpu(type);
            return cpu != nullptr && cpu->vec_dot != nullptr;
        }
        case TensorUse::embedding: {
            const ggml_type_traits * traits = ggml_get_type_traits(type);
            return type == GGML_TYPE_F32 || (traits != nullptr && traits->to_float != nullptr);
        }
    }
    return false;
}

const char * use_text(TensorUse use) {
    switch (use) {
        case TensorUse::vector: return "f32";
        case TensorUse::dense: return "f32 or f16";
        case TensorUse::matrix: return "a type ggml can multiply";
        case TensorUse::embedding: return "a type ggml can dequantize";
    }
    return "?";
}

}  // namespace

WeightFile::WeightFile(std::string path, GgufFile file)
    : path_(std::move(path)), file_(std::move(file)), keys_(file_.gguf.get(), path_) {}

Result<std::unique_ptr<WeightFile>> WeightFile::open(const std::string & path) {
    Result<GgufFile> opened = open_gguf(path, true);
    if (!opened.ok()) return opened.error();
    return std::unique_ptr<WeightFile>(new WeightFile(path, std::move(opened.value())));
}

bool WeightFile::has(const std::string & name) const { return peek(name) != nullptr; }

const ggml_tensor * WeightFile::peek(const std::string & name) const {
    return ggml_get_tensor(file_.meta.get(), name.c_str());
}

Result<ggml_tensor *> WeightFile::tensor(const std::string & name, std::vector<int64_t> ne, TensorUse use) const {
    ggml_tensor * t = ggml_get_tensor(file_.meta.get(), name.c_str());
    if (t == nullptr) return Error{ErrorCode::model_format, "'" + path_ + "' has no tensor " + name};
    ne.resize(GGML_MAX_DIMS, 1);
    for (int i = 0; i < GGML_MAX_DIMS; ++i) {
        if (t->ne[i] != ne[i]) {
            return Error{ErrorCode::model_format, "'" + path_ + "': tensor " + name + " has shape " + shape_text(t->ne) +
                                                      ", expected " + shape_text(ne.data())};
        }
    }
    if (!type_fits(t->type, use)) {
        return Error{ErrorCode::model_format, "'" + path_ + "': tensor " + name + " has type " + ggml_type_name(t->type) +
                                                  ", expected " + use_text(use)};
    }
    return t;
}

Status WeightFile::map_weights() {
    Result<MappedFile> mapped = MappedFile::open(path_);
    if (!mapped.ok()) return mapped.error();
    mapping_.emplace(std::move(mapped.value()));
    // ggml never writes weights in a CPU buffer made from a pointer; the const_cast only satisfies its signature.
    auto * base = const_cast<unsigned char *>(mapping_->data());
    buffer_.reset(ggml_backend_cpu_buffer_from_ptr(base, mapping_->size()));
    if (!buffer_) return Error{ErrorCode::out_of_memory, "cannot wrap the mapping of '" + path_ + "' in a ggml buffer"};
    ggml_backend_buffer_set_usage(buffer_.get(), GGML_BACKEND_BUFFER_USAGE_WEIGHTS);
    const size_t data_offset = gguf_get_data_offset(file_.gguf.get());
    const int64_t n = gguf_get_n_tensors(file_.gguf.get());
    for (int64_t id = 0; id < n; ++id) {
        ggml_tensor * t = ggml_get_tensor(file_.meta.get(), gguf_get_tensor_name(file_.gguf.get(), id));
        // open_gguf checked that every tensor lies inside the file.
        void * address = base + data_offset + gguf_get_tensor_offset(file_.gguf.get(), id);
        if (ggml_backend_tensor_alloc(buffer_.get(), t, address) != GGML_STATUS_SUCCESS) {
            return Error{ErrorCode::internal, std::string("cannot place tensor ") + t->name + " of '" + path_ + "'"};
        }
    }
    return std::nullopt;
}

}  // namespace moondream
