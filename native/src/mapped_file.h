// A read-only memory mapping of a whole file: weights are used in place, never copied.
#pragma once

#include <cstddef>
#include <string>

#include "moondream.h"

namespace moondream {

class MappedFile {
public:
    // `huge_pages`: mapped at a 2 MiB boundary and advised into transparent huge pages, so that
    // where the file system keeps the file in 2 MiB folios (ext4 on recent kernels, for files
    // first read or written through such a mapping) they are mapped whole: fewer TLB misses when
    // kernels stream the whole file.
    static Result<MappedFile> open(const std::string & path, bool huge_pages = false);
    // A shared, writable mapping of the first `size` bytes of the open file `fd` (which the caller
    // keeps or closes), as open()'s `huge_pages`: what is written through writable_data() goes to
    // the file.
    static Result<MappedFile> map_writable(int fd, size_t size, const std::string & path);

    MappedFile(MappedFile && other) noexcept;
    MappedFile & operator=(MappedFile && other) noexcept;
    MappedFile(const MappedFile &) = delete;
    MappedFile & operator=(const MappedFile &) = delete;
    ~MappedFile();

    const unsigned char * data() const { return static_cast<const unsigned char *>(address_); }
    size_t size() const { return size_; }
    // Only for a map_writable() mapping.
    unsigned char * writable_data() const { return static_cast<unsigned char *>(address_); }

private:
    MappedFile(void * address, size_t size) : address_(address), size_(size) {}
    void * address_ = nullptr;
    size_t size_ = 0;
};

}  // namespace moondream
