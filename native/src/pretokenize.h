// GPT-2's pre-tokenizer, written out by hand instead of run through a regex engine:
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// Every character falls under one alternative, so the pieces cover the text exactly; BPE then
// runs on each piece on its own.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "unicode_classes.h"

namespace moondream {

class Gpt2PreTokenizer {
public:
    // Appends the pieces of `text` (valid UTF-8) to `pieces`, in order. They view into `text`.
    void split(std::string_view text, std::vector<std::string_view> & pieces);

private:
    // Per code point of the current text, reused between calls to avoid allocations.
    std::vector<uint32_t> code_points_;
    std::vector<CharClass> classes_;
    std::vector<uint32_t> offsets_;  // byte offset of each code point, plus one past the end
};

}  // namespace moondream
