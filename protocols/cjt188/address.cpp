// Meter addresses: 14 decimal digits for people, seven packed-BCD bytes (A0 first) on the wire.
#include <algorithm>
#include <cctype>

#include "ecmgw/protocols/cjt188.hpp"

namespace ecmgw::cjt188 {

namespace {

constexpr std::size_t kDigits = 14;
constexpr std::uint8_t kWildcardByte = 0xAA;

bool is_wildcard_text(std::string_view text) {
    return std::all_of(text.begin(), text.end(), [](char c) { return c == 'A' || c == 'a'; });
}

std::string quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

}  // namespace

Expected<Address> Address::parse(std::string_view digits) {
    if (digits.size() != kDigits) {
        return fail("meter address " + quoted(digits) + " has " + std::to_string(digits.size()) +
                    " characters, expected 14 decimal digits");
    }
    if (is_wildcard_text(digits)) return wildcard();
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (std::isdigit(static_cast<unsigned char>(digits[i])) == 0) {
            return fail("meter address " + quoted(digits) + " has '" + std::string(1, digits[i]) +
                        "' at position " + std::to_string(i + 1) +
                        ": expected 14 decimal digits (or AAAAAAAAAAAAAA for the wildcard)");
        }
    }
    Address a;
    // The text reads most significant first; the wire starts with the lowest two digits.
    for (std::size_t byte = 0; byte < a.wire.size(); ++byte) {
        const std::size_t high = kDigits - 2 - 2 * byte;
        a.wire[byte] =
            static_cast<std::uint8_t>((digits[high] - '0') << 4 | (digits[high + 1] - '0'));
    }
    return a;
}

Address Address::wildcard() {
    Address a;
    a.wire.fill(kWildcardByte);
    return a;
}

std::string Address::to_string() const {
    // Hex digits, so an address that arrived with non-BCD nibbles (a manufacturer code
    // outside the standard) still prints, and the wildcard reads AAAAAAAAAAAAAA.
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string text;
    text.reserve(kDigits);
    for (auto it = wire.rbegin(); it != wire.rend(); ++it) {
        text += kHex[*it >> 4];
        text += kHex[*it & 0x0F];
    }
    return text;
}

bool Address::is_wildcard() const {
    return std::all_of(wire.begin(), wire.end(), [](std::uint8_t b) { return b == kWildcardByte; });
}

}  // namespace ecmgw::cjt188
