#include "added_tokens.h"

#include <algorithm>

namespace moondream {

int32_t AddedTokenMatcher::child(int32_t node, uint8_t byte) const {
    const auto & children = nodes_[size_t(node)].children;
    const auto it = std::lower_bound(children.begin(), children.end(), byte,
        [](const std::pair<uint8_t, int32_t> & edge, uint8_t b) { return edge.first < b; });
    return it != children.end() && it->first == byte ? it->second : -1;
}

void AddedTokenMatcher::add(std::string_view text, int32_t id) {
    if (text.empty()) return;
    int32_t node = 0;
    for (char c : text) {
        const uint8_t byte = static_cast<uint8_t>(c);
        int32_t next = child(node, byte);
        if (next < 0) {
            next = int32_t(nodes_.size());
            nodes_.emplace_back();
            auto & children = nodes_[size_t(node)].children;
            const auto at = std::lower_bound(children.begin(), children.end(), byte,
                [](const std::pair<uint8_t, int32_t> & edge, uint8_t b) { return edge.first < b; });
            children.insert(at, {byte, next});
        }
        node = next;
    }
    if (nodes_[size_t(node)].id < 0) nodes_[size_t(node)].id = id;
    first_byte_[static_cast<uint8_t>(text[0])] = true;
}

std::optional<AddedTokenMatcher::Match> AddedTokenMatcher::find(std::string_view text, size_t from) const {
    if (empty()) return std::nullopt;
    for (size_t begin = from; begin < text.size(); ++begin) {
        if (!first_byte_[static_cast<uint8_t>(text[begin])]) continue;
        int32_t node = 0;
        std::optional<Match> longest;
        for (size_t i = begin; i < text.size(); ++i) {
            node = child(node, static_cast<uint8_t>(text[i]));
            if (node < 0) break;
            if (nodes_[size_t(node)].id >= 0) longest = Match{begin, i + 1 - begin, nodes_[size_t(node)].id};
        }
        if (longest) return longest;
    }
    return std::nullopt;
}

}  // namespace moondream
