// Image prompt prefixes already prefilled: the KV state after [BOS, "<image>" tokens, image rows]
// per encoded image, so a further question on that image prefills only its own tokens. Bounded
// by bytes; the least recently used prefix is dropped first.
#pragma once

#include <cstdint>
#include <list>
#include <optional>
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
    // Whether a snapshot of `bytes` can be kept at all (a cache of 0 bytes keeps none).
    bool can_keep(size_t bytes) const { return bytes <= max_bytes_; }
    // Drops least recently used snapshots until `bytes` more fit, and hands back the memory of a
    // dropped one that can hold `bytes` (empty if none could): a server answering about new images
    // then copies each displaced prefix into memory already resident, not into fresh pages.
    AnonymousPages make_room(size_t bytes);
    void insert(PrefixKey key, KvSnapshot snapshot);
    // Removes the snapshot for `key` and hands it over; nullopt if absent.
    std::optional<KvSnapshot> take(const PrefixKey & key);
    // Keeps `snapshot` as the most recently used only if it fits without dropping another.
    void insert_if_room(PrefixKey key, KvSnapshot snapshot);
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
