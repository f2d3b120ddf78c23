// Meter addresses: 12 decimal digits for people, six packed-BCD bytes (A0 first) on the wire.
#include <algorithm>
#include <cctype>

#include "ecmgw/protocols/dlt645.hpp"

namespace ecmgw::dlt645 {

namespace {

constexpr std::size_t kDigits = 12;
constexpr std::uint8_t kWildcardByte = 0xAA;
constexpr std::uint8_t kBroadcastByte = 0x99;

Address filled_with(std::uint8_t byte) {
    Address a;
    a.wire.fill(byte);
    return a;
}

bool all_bytes_are(const Address& a, std::uint8_t byte) {
    return std::all_of(a.wire.begin(), a.wire.end(), [byte](std::uint8_t b) { return b == byte; });
}

bool is_wildcard_text(std::string_view text) {
    return std::all_of(text.begin(), text.end(), [](char c) { return c == 'A' || c == 'a'; });
}

std::string quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

}  // namespace

Expected<Address> Address::parse(std::string_view digits) {
    if (digits.size() != kDigits) {
        return fail("meter address " + quoted(digits) + " has " + std::to_string(digits.size()) +
                    " characters, expected 12 decimal digits");
    }
    if (is_wildcard_text(digits)) return wildcard();
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (std::isdigit(static_cast<unsigned char>(digits[i])) == 0) {
            return fail("meter address " + quoted(digits) + " has '" + std::string(1, digits[i]) +
                        "' at position " + std::to_string(i + 1) +
                        ": expected 12 decimal digits (or AAAAAAAAAAAA for the wildcard)");
        }
    }
    Address a;
    // The text reads most significant first; the wire starts with the lowest two digits.
    for (std::size_t byte = 0; byte < a.wire.size(); ++byte) {
        const std::size_t high = kDigits - 2 - 2 * byte;
        const int hi = digits[high] - '0';
        const int lo = digits[high + 1] - '0';
        a.wire[byte] = static_cast<std::uint8_t>(hi << 4 | lo);
    }
    return a;
}

Address Address::wildcard() { return filled_with(kWildcardByte); }

Address Address::broadcast() { return filled_with(kBroadcastByte); }

std::string Address::to_string() const {
    // Hex digits, so an address that arrived with non-BCD nibbles still prints (and the
    // wildcard reads AAAAAAAAAAAA) instead of failing.
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string text;
    text.reserve(kDigits);
    for (auto it = wire.rbegin(); it != wire.rend(); ++it) {
        text += kHex[*it >> 4];
        text += kHex[*it & 0x0F];
    }
    return text;
}

bool Address::is_wildcard() const { return all_bytes_are(*this, kWildcardByte); }

bool Address::is_broadcast() const { return all_bytes_are(*this, kBroadcastByte); }

}  // namespace ecmgw::dlt645
