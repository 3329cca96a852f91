#include "utf8.h"

namespace moondream::utf8 {

namespace {

// Allowed range of the second byte for a lead byte (Unicode Table 3-7). Later continuation bytes
// are always 0x80..0xBF. The narrowed ranges exclude overlong forms, surrogates and > U+10FFFF.
struct LeadInfo {
    uint8_t length;  // 0: not a lead byte
    uint8_t second_lo;
    uint8_t second_hi;
};

constexpr LeadInfo lead_info(uint8_t b) {
    if (b < 0x80) return {1, 0, 0};
    if (b >= 0xC2 && b <= 0xDF) return {2, 0x80, 0xBF};
    if (b == 0xE0) return {3, 0xA0, 0xBF};
    if (b == 0xED) return {3, 0x80, 0x9F};
    if (b >= 0xE1 && b <= 0xEF) return {3, 0x80, 0xBF};
    if (b == 0xF0) return {4, 0x90, 0xBF};
    if (b >= 0xF1 && b <= 0xF3) return {4, 0x80, 0xBF};
    if (b == 0xF4) return {4, 0x80, 0x8F};
    return {0, 0, 0};
}

}  // namespace

Decoded decode(std::string_view text, size_t pos) {
    const auto byte = [&](size_t i) { return static_cast<uint8_t>(text[i]); };
    const uint8_t lead = byte(pos);
    const LeadInfo info = lead_info(lead);
    if (info.length == 1) return {lead, 1, Status::ok};
    if (info.length == 0) return {kReplacement, 1, Status::invalid};

    uint32_t cp = lead & (0xFF >> (info.length + 1));
    for (uint32_t k = 1; k < info.length; ++k) {
        if (pos + k >= text.size()) return {kReplacement, k, Status::truncated};
        const uint8_t b = byte(pos + k);
        const uint8_t lo = k == 1 ? info.second_lo : 0x80;
        const uint8_t hi = k == 1 ? info.second_hi : 0xBF;
        // The bytes seen so far are one maximal subpart; the offending byte starts the next.
        if (b < lo || b > hi) return {kReplacement, k, Status::invalid};
        cp = (cp << 6) | (b & 0x3F);
    }
    return {cp, info.length, Status::ok};
}

void append(std::string & out, uint32_t cp) {
    if (cp < 0x80) {
        out += char(cp);
    } else if (cp < 0x800) {
        out += char(0xC0 | (cp >> 6));
        out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += char(0xE0 | (cp >> 12));
        out += char(0x80 | ((cp >> 6) & 0x3F));
        out += char(0x80 | (cp & 0x3F));
    } else {
        out += char(0xF0 | (cp >> 18));
        out += char(0x80 | ((cp >> 12) & 0x3F));
        out += char(0x80 | ((cp >> 6) & 0x3F));
        out += char(0x80 | (cp & 0x3F));
    }
}

bool is_valid(std::string_view text) {
    for (size_t pos = 0; pos < text.size();) {
        // ASCII runs are the common case; skip them without the table.
        if (static_cast<uint8_t>(text[pos]) < 0x80) {
            ++pos;
            continue;
        }
        const Decoded d = decode(text, pos);
        if (d.status != Status::ok) return false;
        pos += d.length;
    }
    return true;
}

std::string make_valid(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (size_t pos = 0; pos < text.size();) {
        const Decoded d = decode(text, pos);
        if (d.status == Status::ok) {
            out.append(text.data() + pos, d.length);
        } else {
            append(out, kReplacement);
        }
        pos += d.length;
    }
    return out;
}

std::string take_complete(std::string & pending) {
    std::string out;
    size_t pos = 0;
    while (pos < pending.size()) {
        const Decoded d = decode(pending, pos);
        if (d.status == Status::truncated) break;  // wait for the rest of this character
        if (d.status == Status::ok) {
            out.append(pending, pos, d.length);
        } else {
            append(out, kReplacement);
        }
        pos += d.length;
    }
    pending.erase(0, pos);
    return out;
}

}  // namespace moondream::utf8
