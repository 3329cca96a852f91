#include "weight_file.h"

#include "cpu_backend_loader.h"
#include "memory_pages.h"
#include "ggml-alloc.h"

#include <unistd.h>

#include <cerrno>

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
            Result<const CpuBackendApi *> api = cpu_backend_api();  // loading a model loaded it first
            const ggml_type_traits_cpu * cpu = api.ok() ? api.value()->type_traits(type) : nullptr;
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

// The CPU backend's repacking buffer type, if this build has one.
ggml_backend_buffer_type_t repack_buffer_type(ggml_backend_dev_t cpu) {
    ggml_backend_reg_t reg = ggml_backend_dev_backend_reg(cpu);
    auto get_extra = reinterpret_cast<ggml_backend_dev_get_extra_bufts_t>(
        ggml_backend_reg_get_proc_address(reg, "ggml_backend_dev_get_extra_bufts"));
    if (get_extra == nullptr) return nullptr;
    for (ggml_backend_buffer_type_t * buft = get_extra(cpu); buft != nullptr && *buft != nullptr; ++buft) {
        if (std::string(ggml_backend_buft_name(*buft)) == "CPU_REPACK") return *buft;
    }
    return nullptr;
}

// Whether the CPU backend would multiply by `weight` with a repacked kernel: asked the way
// llama.cpp asks, with a throwaway matmul whose weight claims to live in the repack buffer.
bool repack_supported(ggml_backend_dev_t cpu, ggml_backend_buffer_t probe_buffer, const ggml_tensor * weight) {
    ggml_init_params params = {4 * ggml_tensor_overhead(), nullptr, /*no_alloc =*/true};
    ggml_context_ptr ctx(ggml_init(params));
    ggml_tensor * w = ggml_new_tensor_2d(ctx.get(), weight->type, weight->ne[0], weight->ne[1]);
    ggml_tensor * x = ggml_new_tensor_2d(ctx.get(), GGML_TYPE_F32, weight->ne[0], 16);
    ggml_tensor * op = ggml_mul_mat(ctx.get(), w, x);
    w->buffer = probe_buffer;
    return ggml_backend_dev_supports_op(cpu, op);
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

void WeightFile::release_mapped(const ggml_tensor * t) const {
    if (t->buffer == buffer_.get()) release_pages(t->data, ggml_nbytes(t));
}

bool WeightFile::read_tensor_bytes(const ggml_tensor * t, size_t offset, size_t bytes, uint8_t * out) const {
    if (!mapping_ || !reader_ || t->buffer != buffer_.get() || offset > ggml_nbytes(t) || bytes > ggml_nbytes(t) - offset) return false;
    size_t at = size_t(static_cast<const unsigned char *>(t->data) - mapping_->data()) + offset;
    while (bytes > 0) {
        const ssize_t got = pread(fileno(reader_.get()), out, bytes, off_t(at));
        if (got <= 0) {
            if (got < 0 && errno == EINTR) continue;
            return false;
        }
        out += got;
        at += size_t(got);
        bytes -= size_t(got);
    }
    return true;
}

void WeightFile::release_all_mapped() const {
    if (mapping_) release_pages(mapping_->data(), mapping_->size());
}

Status WeightFile::map_weights(const std::vector<ggml_tensor *> & repack_candidates) {
    Result<MappedFile> mapped = MappedFile::open(path_);
    if (!mapped.ok()) return mapped.error();
    mapping_.emplace(std::move(mapped.value()));
    std::string why;
    reader_ = open_regular_file(path_, why);  // without it, repacking reads through the mapping
    // ggml never writes weights in a CPU buffer made from a pointer; the const_cast only satisfies its signature.
    auto * base = const_cast<unsigned char *>(mapping_->data());
    const size_t data_offset = gguf_get_data_offset(file_.gguf.get());
    auto file_address = [&](const ggml_tensor * t) {
        return base + data_offset + gguf_get_tensor_offset(file_.gguf.get(), gguf_find_tensor(file_.gguf.get(), t->name));
    };

    Result<const CpuBackendApi *> api = cpu_backend_api();
    if (!api.ok()) return api.error();
    ggml_backend_dev_t cpu = api.value()->device;
    ggml_backend_buffer_type_t repack = cpu != nullptr ? repack_buffer_type(cpu) : nullptr;
    if (repack != nullptr && !repack_candidates.empty()) {
        ggml_backend_buffer_ptr probe(ggml_backend_buft_alloc_buffer(repack, 0));
        std::vector<ggml_tensor *> chosen;
        size_t total = 0;
        const size_t alignment = ggml_backend_buft_get_alignment(repack);
        for (ggml_tensor * t : repack_candidates) {
            if (probe && repack_supported(cpu, probe.get(), t)) {
                chosen.push_back(t);
                total += GGML_PAD(ggml_backend_buft_get_alloc_size(repack, t), alignment);
            }
        }
        if (!chosen.empty()) {
            repack_buffer_.reset(ggml_backend_buft_alloc_buffer(repack, total));
            if (!repack_buffer_) return Error{ErrorCode::out_of_memory, "cannot allocate " + std::to_string(total) + " bytes for repacked weights"};
            ggml_backend_buffer_set_usage(repack_buffer_.get(), GGML_BACKEND_BUFFER_USAGE_WEIGHTS);
            ggml_tallocr allocator = ggml_tallocr_new(repack_buffer_.get());
            for (ggml_tensor * t : chosen) {
                if (ggml_tallocr_alloc(&allocator, t) != GGML_STATUS_SUCCESS) {
                    return Error{ErrorCode::internal, std::string("cannot place repacked tensor ") + t->name};
                }
                unsigned char * source = file_address(t);
                ggml_backend_tensor_set(t, source, 0, ggml_nbytes(t));  // the repack happens here
                // The mapped copy is no longer read: let the kernel drop those pages from our RSS.
                release_pages(source, ggml_nbytes(t));
            }
        }
    }

    buffer_.reset(ggml_backend_cpu_buffer_from_ptr(base, mapping_->size()));
    if (!buffer_) return Error{ErrorCode::out_of_memory, "cannot wrap the mapping of '" + path_ + "' in a ggml buffer"};
    ggml_backend_buffer_set_usage(buffer_.get(), GGML_BACKEND_BUFFER_USAGE_WEIGHTS);
    const int64_t n = gguf_get_n_tensors(file_.gguf.get());
    for (int64_t id = 0; id < n; ++id) {
        ggml_tensor * t = ggml_get_tensor(file_.meta.get(), gguf_get_tensor_name(file_.gguf.get(), id));
        if (t->buffer != nullptr) continue;  // repacked above
        // open_gguf checked that every tensor lies inside the file.
        void * address = base + data_offset + gguf_get_tensor_offset(file_.gguf.get(), id);
        if (ggml_backend_tensor_alloc(buffer_.get(), t, address) != GGML_STATUS_SUCCESS) {
            return Error{ErrorCode::internal, std::string("cannot place tensor ") + t->name + " of '" + path_ + "'"};
        }
    }
    return std::nullopt;
}

}  // namespace moondream
