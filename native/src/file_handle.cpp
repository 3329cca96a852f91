#include "file_handle.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace moondream {

FilePtr open_regular_file(const std::string & path, std::string & why) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        why = "cannot open '" + path + "': " + std::strerror(errno);
        return nullptr;
    }
    if (!S_ISREG(st.st_mode)) {
        why = "cannot open '" + path + "': not a regular file";
        return nullptr;
    }
    FilePtr file(std::fopen(path.c_str(), "rb"));
    if (!file) {
        why = "cannot open '" + path + "': " + std::strerror(errno);
    }
    return file;
}

long long file_size(std::FILE * file) {
    struct stat st {};
    if (::fstat(fileno(file), &st) != 0) return -1;
    return static_cast<long long>(st.st_size);
}

}  // namespace moondream
