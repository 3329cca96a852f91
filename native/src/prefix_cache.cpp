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

AnonymousPages PrefixCache::make_room(size_t bytes) {
    AnonymousPages reusable;
    while (!entries_.empty() && bytes_ + bytes > max_bytes_) {
        KvSnapshot & dropped = entries_.back().snapshot;
        if (!reusable && dropped.capacity() >= bytes) reusable = std::move(dropped.storage);
        bytes_ -= dropped.size;
        entries_.pop_back();
    }
    return reusable;
}

void PrefixCache::insert(PrefixKey key, KvSnapshot snapshot) {
    if (!snapshot.storage || snapshot.size > max_bytes_) return;  // no memory, or would evict everything and still not fit
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
        if (it->key == key) {
            bytes_ -= it->snapshot.size;
            entries_.erase(it);
            break;
        }
    }
    bytes_ += snapshot.size;
    entries_.push_front(Entry{std::move(key), std::move(snapshot)});
    while (bytes_ > max_bytes_ && !entries_.empty()) {
        bytes_ -= entries_.back().snapshot.size;
        entries_.pop_back();
    }
}

std::optional<KvSnapshot> PrefixCache::take(const PrefixKey & key) {
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
        if (it->key == key) {
            KvSnapshot snapshot = std::move(it->snapshot);
            bytes_ -= snapshot.size;
            entries_.erase(it);
            return snapshot;
        }
    }
    return std::nullopt;
}

void PrefixCache::insert_if_room(PrefixKey key, KvSnapshot snapshot) {
    if (snapshot.storage && bytes_ + snapshot.size <= max_bytes_) insert(std::move(key), std::move(snapshot));
}

}  // namespace moondream
