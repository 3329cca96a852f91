// One model file (text or mmproj): its validated metadata, its tensors checked by name, shape and
// type before any graph uses them, and its bytes memory-mapped so weights are used in place.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ggml-backend.h"
#include "ggml-cpp.h"
#include "file_handle.h"
#include "gguf_file.h"
#include "gguf_keys.h"
#include "mapped_file.h"

namespace moondream {



// What a tensor is used for decides which ggml types the graphs can take for it.
enum class TensorUse {
    vector,   // norms and biases: added or multiplied elementwise, must be f32
    matrix,   // a matmul weight: any type ggml's CPU backend can multiply
    dense,    // used by ops that need plain floats (conv kernel, position table): f32 or f16
    embedding // token embedding rows read with get_rows: any type with a to_float
};

class WeightFile {
public:
    static Result<std::unique_ptr<WeightFile>> open(const std::string & path);

    const GgufKeys & keys() const { return keys_; }
    const std::string & path() const { return path_; }
    gguf_context * gguf() const { return file_.gguf.get(); }

    bool has(const std::string & name) const;
    // The tensor `name`, checked to have exactly the shape `ne` (ggml order; missing trailing dims
    // are 1) and a type fit for `use`.
    Result<ggml_tensor *> tensor(const std::string & name, std::vector<int64_t> ne, TensorUse use) const;
    // The tensor's ne without checks, for shape-based detection (nullptr if absent).
    const ggml_tensor * peek(const std::string & name) const;

    // Maps the file and points every tensor at its bytes. Those of `repack_candidates` that ggml's
    // CPU backend can repack for its faster kernels (q4_0, q4_K, ... on AVX2) are copied once into
    // a repack buffer, as llama.cpp does; their mapped pages are then released. Call after all
    // checks passed.
    Status map_weights(const std::vector<ggml_tensor *> & repack_candidates);
    // Drops a mapped tensor's pages from memory (it must no longer be read; e.g. repacked by us).
    void release_mapped(const ggml_tensor * t) const;
    // Reads `bytes` of a mapped tensor's data from `offset` with pread, not through the mapping:
    // for data read once (our repacking), where faulting the mapping in costs more than copying
    // (on this project's VMs each fault is microseconds; reading an 829 MB file through the
    // mapping took 240-310 ms, with pread 84 ms). False when the read fails or falls outside.
    bool read_tensor_bytes(const ggml_tensor * t, size_t offset, size_t bytes, uint8_t * out) const;
    // Drops every mapped page of the file from this process's memory; the system's page cache
    // keeps them, and the next read maps them back (minor faults, a few pages per fault).
    void release_all_mapped() const;
    size_t mapped_bytes() const { return mapping_ ? mapping_->size() : 0; }
    size_t repacked_bytes() const { return repack_buffer_ ? ggml_backend_buffer_get_size(repack_buffer_.get()) : 0; }

private:
    WeightFile(std::string path, GgufFile file);
    std::string path_;
    GgufFile file_;
    GgufKeys keys_;
    std::optional<MappedFile> mapping_;
    FilePtr reader_;  // the same file, for read_tensor_bytes
    ggml_backend_buffer_ptr buffer_;
    ggml_backend_buffer_ptr repack_buffer_;
};

}  // namespace moondream
