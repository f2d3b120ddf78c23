// An exact decimal number: mantissa × 10^-scale. Meter registers are decimal
// (BCD), and values that reach money must never pass through binary floating point.
#pragma once

#include <cstdint>
#include <string>

namespace ecmgw {

struct Decimal {
    std::int64_t mantissa = 0;
    std::uint8_t scale = 0;  // digits after the decimal point

    // "123.45", "-0.500", "42": all digits kept, as the meter sent them.
    std::string to_string() const;
    // For display and non-money JSON only.
    double to_double() const;
    // The value rescaled to `scale` digits (exact when scale >= this->scale).
    std::int64_t rescaled(std::uint8_t target_scale) const;
    friend bool operator==(const Decimal& a, const Decimal& b) {
        const std::uint8_t s = a.scale > b.scale ? a.scale : b.scale;
        return a.rescaled(s) == b.rescaled(s);
    }
};

}  // namespace ecmgw
