#include "ecmgw/common/decimal.hpp"

#include <cstdlib>

namespace ecmgw {

namespace {
std::int64_t pow10(unsigned n) {
    std::int64_t p = 1;
    while (n-- > 0) p *= 10;
    return p;
}
}  // namespace

std::string Decimal::to_string() const {
    const bool negative = mantissa < 0;
    // Work on the magnitude as unsigned so INT64_MIN does not overflow.
    std::uint64_t magnitude =
        negative ? 0 - static_cast<std::uint64_t>(mantissa) : static_cast<std::uint64_t>(mantissa);
    std::string digits = std::to_string(magnitude);
    if (scale > 0) {
        if (digits.size() <= scale) digits.insert(0, scale + 1 - digits.size(), '0');
        digits.insert(digits.size() - scale, 1, '.');
    }
    return negative ? "-" + digits : digits;
}

double Decimal::to_double() const { return std::strtod(to_string().c_str(), nullptr); }

std::int64_t Decimal::rescaled(std::uint8_t target_scale) const {
    if (target_scale >= scale) return mantissa * pow10(target_scale - scale);
    return mantissa / pow10(scale - target_scale);
}

}  // namespace ecmgw
