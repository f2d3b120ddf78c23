// Byte vectors written as the standards print frames: hex("68 01 00 16").
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <vector>

namespace ecmgw::test {

using ByteVector = std::vector<std::uint8_t>;

// "68 01 00" -> {0x68, 0x01, 0x00}; anything but hex digits separates.
inline ByteVector hex(std::string_view text) {
    ByteVector out;
    int high = -1;
    for (char c : text) {
        int nibble = -1;
        if (c >= '0' && c <= '9') nibble = c - '0';
        if (c >= 'A' && c <= 'F') nibble = c - 'A' + 10;
        if (c >= 'a' && c <= 'f') nibble = c - 'a' + 10;
        if (nibble < 0) continue;
        if (high < 0) {
            high = nibble;
        } else {
            out.push_back(static_cast<std::uint8_t>(high << 4 | nibble));
            high = -1;
        }
    }
    return out;
}

inline ByteVector concat(std::initializer_list<ByteVector> parts) {
    ByteVector out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

}  // namespace ecmgw::test
