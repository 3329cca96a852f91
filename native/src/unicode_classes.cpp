// Lookup in the generated range table, with a direct answer for ASCII: most text is ASCII, and a
// binary search over ~800 ranges for every character would dominate pre-tokenization.
#include "unicode_classes.h"

#include <algorithm>

namespace moondream {

namespace {

constexpr CharClass ascii_class(uint32_t c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return CharClass::letter;
    if (c >= '0' && c <= '9') return CharClass::number;
    if (c == ' ' || (c >= 0x09 && c <= 0x0D)) return CharClass::whitespace;
    return CharClass::other;
}

}  // namespace

CharClass char_class(uint32_t code_point) {
    if (code_point < 0x80) return ascii_class(code_point);
    const CharClassTable table = char_class_table();
    const CharClassRange * end = table.ranges + table.size;
    // First range whose last code point is >= code_point.
    const CharClassRange * it = std::lower_bound(table.ranges, end, code_point,
        [](const CharClassRange & range, uint32_t cp) { return range.last < cp; });
    if (it != end && it->first <= code_point) return it->cls;
    return CharClass::other;
}

}  // namespace moondream
