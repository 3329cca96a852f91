// GPT-2's byte-level alphabet: every byte is shown as one printable character so that BPE tokens
// are strings. Bytes that are printable Latin-1 (! to ~, ¡ to ¬, ® to ÿ) stand for themselves; the
// other 68 take U+0100 onwards in byte order (space is U+0120 'Ġ', newline U+010A 'Ċ').
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace moondream::byte_level {

// The character that stands for a byte.
uint32_t char_of_byte(uint8_t byte);

// The byte a character stands for, or -1 when it is not part of the alphabet.
int byte_of_char(uint32_t code_point);

// The token text for raw bytes: each byte's character, UTF-8 encoded.
std::string encode(std::string_view bytes);

// The bytes a token text stands for, or nothing when one of its characters is outside the
// alphabet (HF's ByteLevel decoder then keeps the token's own UTF-8 bytes). `text` must be valid
// UTF-8; anything else also gives nothing.
std::optional<std::string> decode(std::string_view text);

}  // namespace moondream::byte_level
