// A structural pass over a GGUF file's metadata and tensor table before ggml's reader sees it.
// ggml's reader rejects bad files, but on the way it computes element counts with signed
// overflow and loads out-of-range type ids into an enum (both undefined behaviour, found with
// UBSan on mutated files). This pass bounds every length by the bytes left, every type id by
// the known types, and every shape by 64-bit arithmetic, so ggml only reads sane structures.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include "moondream.h"

namespace moondream {

// "'<path>' is not a valid GGUF file: <what>"
Error gguf_format_error(const std::string & path, const std::string & what);

// `file` is positioned just after the 24-byte header; on success it is left wherever the tensor
// table ends. The caller rewinds.
std::optional<Error> prescan_gguf(std::FILE * file, uint64_t file_size, const std::string & path, int64_t n_kv, int64_t n_tensors);

}  // namespace moondream
