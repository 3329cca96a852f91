#include "byte_level.h"

#include <array>

#include "utf8.h"

namespace moondream::byte_level {

namespace {

constexpr bool stands_for_itself(int b) {
    return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

// Highest character of the alphabet: U+0100 plus the 68 bytes that do not stand for themselves.
constexpr uint32_t kAlphabetEnd = 0x100 + 68;

struct Tables {
    std::array<uint16_t, 256> char_of_byte{};
    std::array<int16_t, kAlphabetEnd> byte_of_char{};
};

constexpr Tables make_tables() {
    Tables t;
    for (auto & b : t.byte_of_char) b = -1;
    uint32_t next = 0x100;
    for (int b = 0; b < 256; ++b) {
        const uint32_t c = stands_for_itself(b) ? uint32_t(b) : next++;
        t.char_of_byte[size_t(b)] = uint16_t(c);
        t.byte_of_char[c] = int16_t(b);
    }
    return t;
}

const Tables & tables() {
    static constexpr Tables kTables = make_tables();
    return kTables;
}

}  // namespace

uint32_t char_of_byte(uint8_t byte) { return tables().char_of_byte[byte]; }

int byte_of_char(uint32_t code_point) {
    return code_point < kAlphabetEnd ? tables().byte_of_char[code_point] : -1;
}

std::string encode(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size() * 2);
    for (char b : bytes) utf8::append(out, char_of_byte(static_cast<uint8_t>(b)));
    return out;
}

std::optional<std::string> decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (size_t pos = 0; pos < text.size();) {
        const utf8::Decoded d = utf8::decode(text, pos);
        if (d.status != utf8::Status::ok) return std::nullopt;
        const int b = byte_of_char(d.code_point);
        if (b < 0) return std::nullopt;
        out += char(b);
        pos += d.length;
    }
    return out;
}

}  // namespace moondream::byte_level
