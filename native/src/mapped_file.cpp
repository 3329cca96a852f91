#include "mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace moondream {

namespace {

// mmap of `fd` at a 2 MiB-aligned address, advised into huge pages: a reservation 2 MiB larger,
// the file mapped over its aligned part and the slack either side given back.
void * map_huge_aligned(size_t size, int prot, int flags, int fd) {
    constexpr size_t kHuge = size_t(2) << 20;
    void * reserved = ::mmap(nullptr, size + kHuge, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (reserved == MAP_FAILED) return MAP_FAILED;
    const uintptr_t start = reinterpret_cast<uintptr_t>(reserved);
    const uintptr_t aligned = (start + kHuge - 1) / kHuge * kHuge;
    void * address = ::mmap(reinterpret_cast<void *>(aligned), size, prot, flags | MAP_FIXED, fd, 0);
    if (address == MAP_FAILED) {
        ::munmap(reserved, size + kHuge);
        return MAP_FAILED;
    }
    if (aligned > start) ::munmap(reserved, aligned - start);
    const size_t page = size_t(::sysconf(_SC_PAGESIZE));
    const uintptr_t end = (aligned + size + page - 1) / page * page;
    if (start + size + kHuge > end) ::munmap(reinterpret_cast<void *>(end), start + size + kHuge - end);
    ::madvise(address, size, MADV_HUGEPAGE);
    return address;
}

}  // namespace

Result<MappedFile> MappedFile::open(const std::string & path, bool huge_pages) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Error{ErrorCode::io, "cannot open '" + path + "': " + std::strerror(errno)};
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
        ::close(fd);
        return Error{ErrorCode::io, "cannot map '" + path + "': not a non-empty regular file"};
    }
    const size_t size = size_t(st.st_size);
    void * address = huge_pages ? map_huge_aligned(size, PROT_READ, MAP_PRIVATE, fd) : ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    const int map_errno = errno;
    ::close(fd);  // the mapping keeps the file alive
    if (address == MAP_FAILED) return Error{ErrorCode::io, "cannot map '" + path + "': " + std::strerror(map_errno)};
    return MappedFile(address, size);
}

Result<MappedFile> MappedFile::map_writable(int fd, size_t size, const std::string & path) {
    void * address = map_huge_aligned(size, PROT_READ | PROT_WRITE, MAP_SHARED, fd);
    if (address == MAP_FAILED) return Error{ErrorCode::io, "cannot map '" + path + "': " + std::strerror(errno)};
    return MappedFile(address, size);
}

MappedFile::MappedFile(MappedFile && other) noexcept : address_(other.address_), size_(other.size_) {
    other.address_ = nullptr;
    other.size_ = 0;
}

MappedFile & MappedFile::operator=(MappedFile && other) noexcept {
    if (this != &other) {
        if (address_ != nullptr) ::munmap(address_, size_);
        address_ = other.address_;
        size_ = other.size_;
        other.address_ = nullptr;
        other.size_ = 0;
    }
    return *this;
}

MappedFile::~MappedFile() {
    if (address_ != nullptr) ::munmap(address_, size_);
}

}  // namespace moondream
