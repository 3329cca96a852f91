#include "bpe.h"

#include <algorithm>

namespace moondream {

void BpeMerges::add(int32_t left, int32_t right, int32_t rank, int32_t result) {
    merges_[key(left, right)] = Merge{rank, result};
}

const BpeMerges::Merge * BpeMerges::find(int32_t left, int32_t right) const {
    const auto it = merges_.find(key(left, right));
    return it == merges_.end() ? nullptr : &it->second;
}

void BpeMerges::apply(std::vector<int32_t> & ids, Scratch & scratch) const {
    if (ids.size() < 2) return;
    using Candidate = Scratch::Candidate;
    // std heap functions build a max-heap; "greater" puts the lowest (rank, pos) on top.
    const auto later = [](const Candidate & a, const Candidate & b) {
        return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
    };

    auto & symbols = scratch.symbols;
    auto & heap = scratch.heap;
    symbols.clear();
    heap.clear();
    const int32_t n = int32_t(ids.size());
    for (int32_t i = 0; i < n; ++i) symbols.push_back({ids[size_t(i)], i - 1, i + 1 < n ? i + 1 : -1});

    const auto push_pair = [&](int32_t pos) {
        const auto & s = symbols[size_t(pos)];
        if (s.next < 0) return;
        const int32_t right = symbols[size_t(s.next)].id;
        if (const Merge * m = find(s.id, right)) {
            heap.push_back({m->rank, pos, s.id, right, m->result});
            std::push_heap(heap.begin(), heap.end(), later);
        }
    };
    for (int32_t i = 0; i + 1 < n; ++i) push_pair(i);

    while (!heap.empty()) {
        std::pop_heap(heap.begin(), heap.end(), later);
        const Candidate top = heap.back();
        heap.pop_back();
        auto & left = symbols[size_t(top.pos)];
        // Stale candidates: the left symbol was merged away (id -1) or changed, or its right
        // neighbour changed. A symbol's id only changes by merging, which always makes a new id,
        // so comparing both ids is enough.
        if (left.id != top.left || left.next < 0) continue;
        auto & right = symbols[size_t(left.next)];
        if (right.id != top.right) continue;

        left.id = top.result;
        right.id = -1;
        left.next = right.next;
        if (right.next >= 0) symbols[size_t(right.next)].prev = top.pos;
        if (left.prev >= 0) push_pair(left.prev);
        push_pair(top.pos);
    }

    ids.clear();
    for (int32_t i = 0; i >= 0; i = symbols[size_t(i)].next) ids.push_back(symbols[size_t(i)].id);
}

}  // namespace moondream
