// A read-only memory mapping of a whole file: weights are used in place, never copied.
#pragma once

#include <cstddef>
#include <string>

#include "moondream.h"

namespace moondream {

class MappedFile {
public:
    static Result<MappedFile> open(const std::string & path);

    MappedFile(MappedFile && other) noexcept;
    MappedFile & operator=(MappedFile && other) noexcept;
    MappedFile(const MappedFile &) = delete;
    MappedFile & operator=(const MappedFile &) = delete;
    ~MappedFile();

    const unsigned char * data() const { return static_cast<const unsigned char *>(address_); }
    size_t size() const { return size_; }

private:
    MappedFile(void * address, size_t size) : address_(address), size_(size) {}
    void * address_ = nullptr;
    size_t size_ = 0;
};

}  // namespace moondream
