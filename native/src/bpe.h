// Byte-pair merging by rank, over token ids. The order of merges is HF tokenizers' (BPE model,
// Word::merge_all): always the pair of lowest rank, the leftmost one among equal ranks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace moondream {

class BpeMerges {
public:
    // Declares that `left` followed by `right` merges into `result`, with priority `rank` (lower
    // merges first). A pair given twice keeps the later rank, as HF's BPE builder does.
    void add(int32_t left, int32_t right, int32_t rank, int32_t result);

    size_t size() const { return merges_.size(); }

    // Scratch space for apply(), kept by the caller so that merging allocates nothing per piece.
    struct Scratch {
        struct Symbol {
            int32_t id;
            int32_t prev;  // index of the previous live symbol, -1 if none
            int32_t next;  // index of the next live symbol, -1 if none
        };
        struct Candidate {
            int32_t rank;
            int32_t pos;  // index of the left symbol
            int32_t left;
            int32_t right;
            int32_t result;
        };
        std::vector<Symbol> symbols;
        std::vector<Candidate> heap;
    };

    // Merges `ids` (the initial symbols of one piece) in place until no known pair is left.
    void apply(std::vector<int32_t> & ids, Scratch & scratch) const;

private:
    struct Merge {
        int32_t rank;
        int32_t result;
    };
    static uint64_t key(int32_t left, int32_t right) {
        return (uint64_t(uint32_t(left)) << 32) | uint32_t(right);
    }
    const Merge * find(int32_t left, int32_t right) const;

    std::unordered_map<uint64_t, Merge> merges_;
};

}  // namespace moondream
