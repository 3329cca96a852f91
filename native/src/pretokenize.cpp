#include "pretokenize.h"

#include "utf8.h"

namespace moondream {

namespace {

// Length (in code points) of a contraction at `k`, or 0. Case-sensitive, ASCII apostrophe only,
// like GPT-2's regex.
size_t contraction_length(const std::vector<uint32_t> & cp, size_t k, size_t n) {
    if (cp[k] != '\'' || k + 1 >= n) return 0;
    const uint32_t a = cp[k + 1];
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
    if (k + 2 >= n) return 0;
    const uint32_t b = cp[k + 2];
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
    return 0;
}

}  // namespace

void Gpt2PreTokenizer::split(std::string_view text, std::vector<std::string_view> & pieces) {
    code_points_.clear();
    classes_.clear();
    offsets_.clear();
    for (size_t pos = 0; pos < text.size();) {
        const utf8::Decoded d = utf8::decode(text, pos);
        code_points_.push_back(d.code_point);
        classes_.push_back(char_class(d.code_point));
        offsets_.push_back(uint32_t(pos));
        pos += d.length;
    }
    const size_t n = code_points_.size();
    offsets_.push_back(uint32_t(text.size()));

    const auto & cp = code_points_;
    const auto & cls = classes_;
    const auto run_end = [&](size_t from, CharClass c) {
        while (from < n && cls[from] == c) ++from;
        return from;
    };
    const auto emit = [&](size_t begin, size_t end) {
        pieces.push_back(text.substr(offsets_[begin], offsets_[end] - offsets_[begin]));
    };

    size_t k = 0;
    while (k < n) {
        if (const size_t len = contraction_length(cp, k, n)) {
            emit(k, k + len);
            k += len;
            continue;
        }
        // " ?\p{L}+", " ?\p{N}+" and " ?[^\s\p{L}\p{N}]+": an optional single space, then a run
        // of one class. A space only joins when a non-space follows it.
        size_t body = k;
        if (cp[k] == ' ' && k + 1 < n && cls[k + 1] != CharClass::whitespace) body = k + 1;
        if (cls[body] != CharClass::whitespace) {
            const size_t end = run_end(body, cls[body]);
            emit(k, end);
            k = end;
            continue;
        }
        // "\s+(?!\S)" then "\s+": a whitespace run stops one short of a following non-space (which
        // may then take that last space), unless it is a single character or ends the text.
        const size_t end = run_end(k, CharClass::whitespace);
        const size_t stop = (end == n || end - k == 1) ? end : end - 1;
        emit(k, stop);
        k = stop;
    }
}

}  // namespace moondream
