// Memory by the page: anonymous mappings that start as zeros and give their pages straight back
// to the system when freed, and handing pages back without unmapping them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace moondream {

// Deleter for memory from an anonymous mmap of `bytes`.
struct AnonymousUnmap {
    size_t bytes = 0;
    void operator()(uint8_t * p) const;
};

using AnonymousPages = std::unique_ptr<uint8_t, AnonymousUnmap>;

// `bytes` of page-aligned, zero-filled memory of this process's own: a page becomes resident only
// when first touched. Empty when the system refuses. The C heap is no substitute: glibc keeps
// large freed chunks in per-thread arenas, so freed memory lingers in RSS, and it promises no zeros.
AnonymousPages map_anonymous(size_t bytes);

// The same, starting on a 2 MiB boundary and advised into transparent huge pages (see
// advise_huge_pages), so that all of it but a partial last 2 MiB can fault in whole huge pages.
AnonymousPages map_anonymous_huge(size_t bytes);

// Drops the whole pages inside [data, data + bytes) from this process's memory; the range stays
// valid, and a page comes back on its next touch (from the file for a file mapping, as zeros for
// anonymous memory). Only for memory whose contents are not needed again: read-only file
// mappings, or scratch that is rewritten before it is read.
void release_pages(const void * data, size_t bytes);

// Asks for transparent huge pages (2 MiB) over the whole pages inside [data, data + bytes), where
// the system offers them for madvise (the usual setting). Scratch and cache memory that is
// written from scratch at every run then faults in 2 MiB at a time: on the virtual machines we
// run on, a 4 KiB fault of fresh memory costs about 10 us, so a prefill's 150 MB of KV cache took
// 0.4 s of faults, against about 10 ms in huge pages. Memory stays zero-filled and lazily resident.
void advise_huge_pages(const void * data, size_t bytes);

}  // namespace moondream
