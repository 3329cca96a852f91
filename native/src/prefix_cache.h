// Image prompt prefixes already prefilled: the KV state after [BOS, "<image>" tokens, image rows]
// per encoded image, so a further question on that image prefills only its own tokens. Bounded
// by bytes; the least recently used prefix is dropped first.
#pragma once

#include <cstdint>
#include <list>
#include <vector>

#include "kv_cache.h"

namespace moondream {

struct PrefixKey {
    uint64_t image_id = 0;
    std::vector<int32_t> tokens;  // the tokens around the rows that form the prefix
    bool operator==(const PrefixKey & other) const { return image_id == other.image_id && tokens == other.tokens; }
};

class PrefixCache {
public:
    explicit PrefixCache(size_t max_bytes) : max_bytes_(max_bytes) {}

    // The snapshot for `key`, marked most recently used; nullptr if absent.
    const KvSnapshot * find(const PrefixKey & key);
    void insert(PrefixKey key, KvSnapshot snapshot);
    void clear() { entries_.clear(); bytes_ = 0; }
    size_t bytes() const { return bytes_; }
    size_t size() const { return entries_.size(); }

private:
    struct Entry {
        PrefixKey key;
        KvSnapshot snapshot;
    };
    size_t max_bytes_;
    size_t bytes_ = 0;
    std::list<Entry> entries_;  // most recently used first
};

}  // namespace moondream
