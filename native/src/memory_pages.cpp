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

AnonymousPages map_anonymous_huge(size_t bytes) {
    constexpr size_t kHuge = size_t(2) << 20;
    const size_t page = size_t(sysconf(_SC_PAGESIZE));
    bytes = (bytes + page - 1) / page * page;
    // Over-map by 2 MiB, then unmap the slack either side of the aligned range.
    void * memory = mmap(nullptr, bytes + kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) return AnonymousPages(nullptr, AnonymousUnmap{0});
    const uintptr_t start = reinterpret_cast<uintptr_t>(memory);
    const uintptr_t aligned = (start + kHuge - 1) / kHuge * kHuge;
    if (aligned > start) munmap(memory, aligned - start);
    const size_t tail = start + bytes + kHuge - (aligned + bytes);
    if (tail > 0) munmap(reinterpret_cast<void *>(aligned + bytes), tail);
    madvise(reinterpret_cast<void *>(aligned), bytes, MADV_HUGEPAGE);
    return AnonymousPages(reinterpret_cast<uint8_t *>(aligned), AnonymousUnmap{bytes});
}

namespace {

// madvise(advice) over the whole pages inside [data, data + bytes).
void advise_whole_pages(const void * data, size_t bytes, int advice) {
    const uintptr_t page = uintptr_t(sysconf(_SC_PAGESIZE));
    const uintptr_t first = (reinterpret_cast<uintptr_t>(data) + page - 1) / page * page;
    const uintptr_t last = (reinterpret_cast<uintptr_t>(data) + bytes) / page * page;
    if (last > first) madvise(reinterpret_cast<void *>(first), last - first, advice);
}

}  // namespace

void release_pages(const void * data, size_t bytes) { advise_whole_pages(data, bytes, MADV_DONTNEED); }

// Only advice: where huge pages are off (or the range is not ours to advise), nothing changes.
void advise_huge_pages(const void * data, size_t bytes) { advise_whole_pages(data, bytes, MADV_HUGEPAGE); }

}  // namespace moondream
