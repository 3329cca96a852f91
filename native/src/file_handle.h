// RAII for C stdio files (ggml's readers take FILE*), plus the size of an open file.
#pragma once

#include <cstdio>
#include <memory>
#include <string>

namespace moondream {

struct FileCloser {
    void operator()(std::FILE * file) const { std::fclose(file); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

// Opens a regular file for binary reading. On failure returns null and sets `why` to a message
// that names the path and the reason.
FilePtr open_regular_file(const std::string & path, std::string & why);

// Size of an open file in bytes, or -1.
long long file_size(std::FILE * file);

}  // namespace moondream
