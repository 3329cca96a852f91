// A fast 64-bit hash of bytes, for telling a damaged or stale cache file from a good one (not a
// cryptographic hash: it guards against accidents, not against someone crafting a collision).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace moondream {

// Hash of [data, data + bytes), seeded; the same bytes give the same value on every machine.
uint64_t hash_bytes(const uint8_t * data, size_t bytes, uint64_t seed = 0);
inline uint64_t hash_text(std::string_view text, uint64_t seed = 0) {
    return hash_bytes(reinterpret_cast<const uint8_t *>(text.data()), text.size(), seed);
}

// The same kind of hash of a large buffer, computed on up to `threads` threads: the buffer is
// hashed in fixed chunks and the chunks' hashes in order, so the value does not depend on the
// thread count. Memory bandwidth bound: about 0.1 s for 1.4 GB on two cores.
uint64_t hash_large(const uint8_t * data, size_t bytes, int threads);

}  // namespace moondream
