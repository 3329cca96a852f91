#include "prefix_cache.h"

namespace moondream {

const KvSnapshot * PrefixCache::find(const PrefixKey & key) {
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
        if (it->key == key) {
            entries_.splice(entries_.begin(), entries_, it);
            return &entries_.front().snapshot;
        }
    }
    return nullptr;
}

void PrefixCache::insert(PrefixKey key, KvSnapshot snapshot) {
    if (snapshot.bytes.size() > max_bytes_) return;  // would evict everything and still not fit
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
        if (it->key == key) {
            bytes_ -= it->snapshot.bytes.size();
            entries_.erase(it);
            break;
        }
    }
    bytes_ += snapshot.bytes.size();
    entries_.push_front(Entry{std::move(key), std::move(snapshot)});
    while (bytes_ > max_bytes_ && !entries_.empty()) {
        bytes_ -= entries_.back().snapshot.bytes.size();
        entries_.pop_back();
    }
}

}  // namespace moondream
