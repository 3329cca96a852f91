// A model file's repacked matmul weights kept in a cache file, so that the next load maps them
// instead of repacking (LoadParams::packed_cache_dir).
//
// Why: repacking a q8_0 text model writes 1.4 GB of fresh memory. On the virtual machines we run
// on, memory a process freed goes back to the host after a short idle (free page reporting), and
// fresh memory must then be backed again page by page: a load took 2.3-2.5 s after an idle against
// 0.3 s right after another load. A cache file's pages stay in the page cache, which is not
// handed back, so a load only maps them (and hashes them, below).
//
// A cache file is used only when everything it depends on matches: the source file's identity
// (size, modification time, device and inode), the list of packed weights (names, types, shapes,
// offsets), the packed layout (VnniMatrix::layout_fingerprint(): the code's tiles and this CPU's
// kernels) and a hash of the packed bytes, checked at every load. Anything else is a miss: the
// weights are repacked and the file replaced. Files are written under a temporary name and
// renamed, so a reader never sees a partial one; files are never modified in place.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "mapped_file.h"

namespace moondream {

// What a cache file must match, besides the source file's identity.
struct PackedCacheKey {
    std::string source_path;  // the GGUF file the weights come from
    std::string manifest;     // the packed weights and their offsets, one line each
    uint64_t layout = 0;      // VnniMatrix::layout_fingerprint()
    size_t data_bytes = 0;    // all packed weights, the layout of MatmulWeights::place
};

// The cache file for `key` in `directory`: named after the source file, a hash of its absolute
// path and the layout, so CPUs and builds with different layouts keep files of their own.
std::string packed_cache_path(const std::string & directory, const PackedCacheKey & key);

// The packed bytes of a cache file that matches `key`, mapped read-only and faulted in (they
// start at data_offset() of the mapping); nullopt with `why` set when there is none or it does
// not match.
std::optional<MappedFile> map_packed_cache(const std::string & path, const PackedCacheKey & key, int threads, std::string & why);

// Where the packed bytes start in a cache file.
constexpr size_t packed_cache_data_offset() { return 4096; }

// A new cache file, written in place: the weights are packed straight into its mapping (one
// copy of fresh memory, not an anonymous one and then the page cache's), and commit() renames it
// into place. Its blocks are allocated up front, so a full disk fails create(), never a write
// through the mapping (which would be a SIGBUS).
class PackedCacheWriter {
public:
    // A temporary file next to `path` (creating `directory`) with room for key.data_bytes;
    // nullopt with `why` set when it cannot be made.
    static std::optional<PackedCacheWriter> create(const std::string & directory, const std::string & path, const PackedCacheKey & key,
                                                   std::string & why);
    PackedCacheWriter(PackedCacheWriter && other) noexcept;
    PackedCacheWriter & operator=(PackedCacheWriter &&) = delete;
    ~PackedCacheWriter();  // removes the temporary file unless committed

    // key.data_bytes, 64-byte aligned, for the packed weights.
    uint8_t * data() const { return mapping_->writable_data() + packed_cache_data_offset(); }
    // Hashes the packed bytes, writes the header and renames the file to `path`; false with `why`
    // set when it cannot (the mapping stays valid either way).
    bool commit(int threads, std::string & why);
    // The mapping, to keep the packed weights for this process's kernels (call once, last).
    MappedFile take_mapping() { return std::move(*mapping_); }

private:
    PackedCacheWriter(std::string path, std::string temporary, PackedCacheKey key, MappedFile mapping);
    std::string path_;
    std::string temporary_;  // empty once renamed (or moved from)
    PackedCacheKey key_;
    std::optional<MappedFile> mapping_;
};

}  // namespace moondream
