#include "memory_pages.h"

#include <sys/mman.h>
#include <unistd.h>

namespace moondream {

void AnonymousUnmap::operator()(uint8_t * p) const { munmap(p, bytes); }

AnonymousPages map_anonymous(size_t bytes) {
    void * memory = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) return AnonymousPages(nullptr, AnonymousUnmap{0});
    return AnonymousPages(static_cast<uint8_t *>(memory), AnonymousUnmap{bytes});
}

void release_pages(const void * data, size_t bytes) {
    const uintptr_t page = uintptr_t(sysconf(_SC_PAGESIZE));
    const uintptr_t first = (reinterpret_cast<uintptr_t>(data) + page - 1) / page * page;
    const uintptr_t last = (reinterpret_cast<uintptr_t>(data) + bytes) / page * page;
    if (last > first) madvise(reinterpret_cast<void *>(first), last - first, MADV_DONTNEED);
}

}  // namespace moondream
