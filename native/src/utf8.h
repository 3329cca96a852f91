// UTF-8 decoding with the "substitution of maximal subparts" rule (Unicode ch. 3, U+FFFD
// substitution; the WHATWG decoder and Rust's String::from_utf8_lossy both follow it). One rule
// serves the tokenizer's input (invalid bytes become U+FFFD before tokenizing) and the decoder's
// output (bytes that are not UTF-8 decode to U+FFFD, as HF's ByteLevel decoder does).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace moondream::utf8 {

constexpr uint32_t kReplacement = 0xFFFD;

enum class Status : uint8_t {
    ok,         // a whole, valid code point
    invalid,    // a maximal subpart that can never become valid: one U+FFFD
    truncated,  // a valid start of a sequence that the input ends in the middle of
};

struct Decoded {
    uint32_t code_point;  // kReplacement unless status == ok
    uint32_t length;      // bytes consumed, >= 1
    Status status;
};

// Decodes the sequence starting at text[pos] (pos < text.size()).
Decoded decode(std::string_view text, size_t pos);

// Appends the UTF-8 encoding of a code point (a scalar value).
void append(std::string & out, uint32_t code_point);

bool is_valid(std::string_view text);

// `text` with every invalid or truncated maximal subpart replaced by U+FFFD.
std::string make_valid(std::string_view text);

// For streaming: `pending` holds the bytes not yet emitted. Returns the whole characters at its
// start (a subpart that can no longer become a character as U+FFFD, as soon as that is certain)
// and leaves in `pending` only the valid start of an unfinished character. Taking complete text
// this way after each new chunk, then make_valid() of what is left at the end, gives exactly
// make_valid() of all the bytes at once.
std::string take_complete(std::string & pending);

}  // namespace moondream::utf8
