// The Unicode character classes of GPT-2's pre-tokenizer regex: \p{L}, \p{N} and \s (the
// White_Space property, as in Oniguruma, which HF tokenizers uses). The table itself is generated
// (unicode_class_table.cpp, by scripts/gen-unicode-classes.ts) so it follows a real Unicode version
// instead of a hand-kept list.
#pragma once

#include <cstddef>
#include <cstdint>

namespace moondream {

enum class CharClass : uint8_t { other, letter, number, whitespace };

struct CharClassRange {
    uint32_t first;
    uint32_t last;  // inclusive
    CharClass cls;
};

struct CharClassTable {
    const CharClassRange * ranges;  // sorted by `first`, disjoint
    size_t size;
};

// The generated table (unicode_class_table.cpp).
CharClassTable char_class_table();

// Class of one code point; anything outside the table (unassigned, symbols, marks...) is `other`.
CharClass char_class(uint32_t code_point);

}  // namespace moondream
