#pragma once

#include <cstring>

namespace moondream {

// Reads a value from possibly unaligned bytes. GGUF is little-endian, as is every target we build for.
template <typename T>
T read_le(const unsigned char * bytes) {
    T value;
    std::memcpy(&value, bytes, sizeof(T));
    return value;
}

}  // namespace moondream
