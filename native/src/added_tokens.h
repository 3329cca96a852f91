// Finds added tokens in raw text before any pre-tokenization, leftmost-longest, as HF's
// AddedVocabulary does with its Aho-Corasick automata (MatchKind::LeftmostLongest): of the matches
// that start earliest, the longest wins. A byte trie gives the same answer: the added tokens of
// real vocabularies are few and short.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace moondream {

class AddedTokenMatcher {
public:
    // Adds a token text (non-empty, valid UTF-8). A text given twice keeps its first id.
    void add(std::string_view text, int32_t id);

    bool empty() const { return nodes_.size() <= 1; }

    struct Match {
        size_t begin;   // byte offset
        size_t length;  // bytes
        int32_t id;
    };

    // The leftmost-longest match starting at or after `from`, if any.
    std::optional<Match> find(std::string_view text, size_t from) const;

private:
    struct Node {
        std::vector<std::pair<uint8_t, int32_t>> children;  // (byte, node index), sorted by byte
        int32_t id = -1;                                     // token ending here, or -1
    };
    int32_t child(int32_t node, uint8_t byte) const;

    std::vector<Node> nodes_{Node{}};       // nodes_[0] is the root
    std::array<bool, 256> first_byte_{};  // bytes that can start a match: a quick skip
};

}  // namespace moondream
