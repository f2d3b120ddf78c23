// Register words to exact decimals and back.
//
// Readings reach money (prepaid balances), so no value passes through binary floating
// point on its way in except the meter's own float: that one is turned into the
// shortest decimal text that reads back as the same float (std::to_chars), which is the
// number the meter's firmware meant ("230.2", not 230.19999694824219), and from there
// on everything is integer arithmetic on Decimal mantissas.
#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

#include "ecmgw/protocols/modbus_map.hpp"

namespace ecmgw::modbus {

namespace {

constexpr int kMaxDigits = 18;  // every 18-digit number fits an int64

std::uint64_t pow10(int n) {
    std::uint64_t p = 1;
    while (n-- > 0) p *= 10;
    return p;
}

std::uint64_t magnitude(std::int64_t x) {
    return x < 0 ? 0 - static_cast<std::uint64_t>(x) : static_cast<std::uint64_t>(x);
}

// x × 10^n, or nothing on overflow.
std::optional<std::int64_t> scale_up(std::int64_t x, int n) {
    if (x == 0) return 0;
    if (n > kMaxDigits) return std::nullopt;
    std::int64_t out = 0;
    if (__builtin_mul_overflow(x, static_cast<std::int64_t>(pow10(n)), &out)) {
        return std::nullopt;
    }
    return out;
}

// num / den rounded half away from zero; den != 0.
std::int64_t divide_rounded(std::int64_t num, std::int64_t den) {
    const std::uint64_t n = magnitude(num);
    const std::uint64_t d = magnitude(den);
    std::uint64_t q = n / d;
    const std::uint64_t r = n % d;
    if (r >= d - r) ++q;  // r ≥ d/2 without overflowing 2r
    const bool negative = (num < 0) != (den < 0);
    return negative ? static_cast<std::int64_t>(0 - q) : static_cast<std::int64_t>(q);
}

// x / 10^n rounded half away from zero. Past 19 digits every int64 rounds to 0.
std::int64_t scale_down(std::int64_t x, int n) {
    if (n <= 0) return x;
    if (n > 19) return 0;
    const std::uint64_t p = pow10(n);
    const std::uint64_t m = magnitude(x);
    std::uint64_t q = m / p;
    if (m % p >= p / 2) ++q;  // p is even for n ≥ 1
    return x < 0 ? static_cast<std::int64_t>(0 - q) : static_cast<std::int64_t>(q);
}

// The registers' bytes as one big-endian number, after undoing the word order. Both
// steps (reverse the words, swap bytes within words) are their own inverse and commute,
// so the same function also arranges a value's words for encoding.
std::vector<std::uint16_t> arrange(std::span<const std::uint16_t> words, WordOrder order) {
    std::vector<std::uint16_t> out(words.begin(), words.end());
    if (order == WordOrder::CDAB || order == WordOrder::DCBA) {
        std::reverse(out.begin(), out.end());
    }
    if (order == WordOrder::BADC || order == WordOrder::DCBA) {
        for (auto& w : out) w = static_cast<std::uint16_t>((w << 8) | (w >> 8));
    }
    return out;
}

std::uint64_t big_endian(const std::vector<std::uint16_t>& words) {
    std::uint64_t v = 0;
    for (const std::uint16_t w : words) v = (v << 16) | w;
    return v;
}

std::vector<std::uint16_t> words_of(std::uint64_t v, std::size_t count) {
    std::vector<std::uint16_t> words(count);
    for (std::size_t i = count; i-- > 0;) {
        words[i] = static_cast<std::uint16_t>(v & 0xFFFF);
        v >>= 16;
    }
    return words;
}

std::int64_t sign_extend(std::uint64_t raw, unsigned bits) {
    if (bits == 64) return std::bit_cast<std::int64_t>(raw);
    const std::uint64_t sign = std::uint64_t{1} << (bits - 1);
    return static_cast<std::int64_t>(raw ^ sign) - static_cast<std::int64_t>(sign);
}

Expected<std::int64_t> from_bcd(std::uint64_t raw, unsigned digits) {
    std::int64_t value = 0;
    for (unsigned i = digits; i-- > 0;) {
        const auto nibble = static_cast<unsigned>((raw >> (4 * i)) & 0x0F);
        if (nibble > 9) return fail("BCD digit " + std::to_string(nibble) + " is not 0..9");
        value = value * 10 + nibble;
    }
    return value;
}

std::uint64_t to_bcd(std::int64_t value, unsigned digits) {
    std::uint64_t raw = 0;
    for (unsigned i = 0; i < digits; ++i) {
        raw |= static_cast<std::uint64_t>(value % 10) << (4 * i);
        value /= 10;
    }
    return raw;
}

// mantissa × 10^exponent, an exact reading of to_chars' text.
struct Scientific {
    std::int64_t mantissa = 0;
    int exponent = 0;
};

// Reads "230.2", "-1.5e-07", "1e+30", "120000000000000000000" as written.
Expected<Scientific> read_number(std::string_view text) {
    bool negative = false;
    if (!text.empty() && text.front() == '-') {
        negative = true;
        text.remove_prefix(1);
    }
    std::string digits;
    int exponent = 0;
    bool after_point = false;
    std::size_t i = 0;
    for (; i < text.size() && text[i] != 'e'; ++i) {
        if (text[i] == '.') {
            after_point = true;
        } else {
            digits += text[i];
            if (after_point) --exponent;
        }
    }
    if (i < text.size()) {  // e±NN
        int e = 0;
        const std::string_view tail = text.substr(i + 1);
        const char* begin = tail.data() + (tail.starts_with('+') ? 1 : 0);
        const auto [end, ec] = std::from_chars(begin, tail.data() + tail.size(), e);
        if (ec != std::errc{} || end != tail.data() + tail.size()) {
            return fail("cannot read the number " + std::string(text));
        }
        exponent += e;
    }
    while (digits.size() > 1 && digits.back() == '0') {
        digits.pop_back();
        ++exponent;
    }
    const std::size_t first = digits.find_first_not_of('0');
    digits = first == std::string::npos ? "0" : digits.substr(first);
    if (digits.size() > static_cast<std::size_t>(kMaxDigits)) {
        return fail("the number " + std::string(text) + " has too many digits");
    }
    Scientific s;
    for (const char c : digits) s.mantissa = s.mantissa * 10 + (c - '0');
    if (negative) s.mantissa = -s.mantissa;
    s.exponent = exponent;
    return s;
}

template <class Float>
Expected<Scientific> shortest(Float value) {
    if (!std::isfinite(value)) {
        return fail(std::isnan(value) ? "the meter sent NaN (not a number)"
                                      : "the meter sent an infinite value");
    }
    char buffer[64];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    if (ec != std::errc{}) return fail("cannot write the float as text");
    return read_number(std::string_view(buffer, static_cast<std::size_t>(end - buffer)));
}

// value × scale, kept to `decimals` digits after the point, rounded half away from zero.
Expected<Decimal> scaled_float(Scientific value, const Decimal& scale, std::uint8_t decimals) {
    std::int64_t product = 0;
    if (__builtin_mul_overflow(value.mantissa, scale.mantissa, &product)) {
        return fail("the value is too large for a decimal");
    }
    const int shift = value.exponent - scale.scale + decimals;  // 10^shift to reach `decimals`
    if (shift >= 0) {
        const auto up = scale_up(product, shift);
        if (!up) return fail("the value is too large for a decimal");
        return Decimal{*up, decimals};
    }
    return Decimal{scale_down(product, -shift), decimals};
}

Expected<Decimal> scaled_integer(std::int64_t raw, const Decimal& scale) {
    std::int64_t product = 0;
    if (__builtin_mul_overflow(raw, scale.mantissa, &product)) {
        return fail("raw value " + std::to_string(raw) + " × scale " + scale.to_string() +
                    " is too large for a decimal");
    }
    return Decimal{product, scale.scale};
}

Expected<std::int64_t> raw_integer(const Point& point, std::uint64_t raw) {
    switch (point.type) {
        case ValueType::U16:
        case ValueType::U32:
            return static_cast<std::int64_t>(raw);
        case ValueType::U64:
            if (raw > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
                return fail("u64 value " + std::to_string(raw) + " is too large for a decimal");
            }
            return static_cast<std::int64_t>(raw);
        case ValueType::S16:
            return sign_extend(raw, 16);
        case ValueType::S32:
            return sign_extend(raw, 32);
        case ValueType::S64:
            return sign_extend(raw, 64);
        case ValueType::Bcd16:
            return from_bcd(raw, 4);
        case ValueType::Bcd32:
            return from_bcd(raw, 8);
        case ValueType::F32:
        case ValueType::F64:
            break;
    }
    return fail("not an integer type");
}

struct Range {
    std::int64_t lo;
    std::int64_t hi;
};

Range range_of(ValueType type) {
    switch (type) {
        case ValueType::U16:
            return {0, 0xFFFF};
        case ValueType::S16:
            return {-0x8000, 0x7FFF};
        case ValueType::U32:
            return {0, 0xFFFFFFFF};
        case ValueType::S32:
            return {-0x80000000LL, 0x7FFFFFFF};
        case ValueType::U64:
            return {0, std::numeric_limits<std::int64_t>::max()};
        case ValueType::S64:
        case ValueType::F32:
        case ValueType::F64:
            break;
        case ValueType::Bcd16:
            return {0, 9999};
        case ValueType::Bcd32:
            return {0, 99999999};
    }
    return {std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()};
}

// value / scale rounded to an integer raw step.
Expected<std::int64_t> raw_of(const Decimal& value, const Decimal& scale) {
    if (scale.mantissa == 0) return fail("the point's scale is 0");
    std::int64_t num = value.mantissa;
    std::int64_t den = scale.mantissa;
    const int e = static_cast<int>(scale.scale) - static_cast<int>(value.scale);
    const auto widened = e >= 0 ? scale_up(num, e) : scale_up(den, -e);
    if (!widened) return fail("the value " + value.to_string() + " does not fit the point");
    (e >= 0 ? num : den) = *widened;
    return divide_rounded(num, den);
}

// For the simulator's float encoding only; readings never take this path.
double scale_as_double(const Decimal& scale) { return scale.to_double(); }

Expected<std::uint64_t> encode_raw(const Point& point, const Decimal& value) {
    if (is_float(point.type)) {
        const double v = value.to_double() / scale_as_double(point.scale);
        if (point.type == ValueType::F32) {
            const auto f = static_cast<float>(v);
            if (!std::isfinite(f)) return fail("the value does not fit an f32");
            return std::uint64_t{std::bit_cast<std::uint32_t>(f)};
        }
        return std::bit_cast<std::uint64_t>(v);
    }
    const auto raw = raw_of(value, point.scale);
    if (!raw) return unexpected(raw.error());
    const Range r = range_of(point.type);
    if (*raw < r.lo || *raw > r.hi) {
        return fail("raw value " + std::to_string(*raw) + " does not fit " +
                    std::string(to_string(point.type)) + " (" + std::to_string(r.lo) + ".." +
                    std::to_string(r.hi) + ")");
    }
    switch (point.type) {
        case ValueType::Bcd16:
            return to_bcd(*raw, 4);
        case ValueType::Bcd32:
            return to_bcd(*raw, 8);
        default:
            break;
    }
    const unsigned bits = 16U * register_count(point.type);
    const std::uint64_t mask = bits == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << bits) - 1;
    return static_cast<std::uint64_t>(*raw) & mask;
}

}  // namespace

Expected<Decimal> decode_point(const Point& point, std::span<const std::uint16_t> registers) {
    if (is_bit_table(point.table)) {
        return fail("point " + point.quantity + " is a bit; decode it with decode_bit");
    }
    const std::size_t count = register_count(point.type);
    if (registers.size() != count) {
        return fail("point " + point.quantity + " needs " + std::to_string(count) +
                    " registers, got " + std::to_string(registers.size()));
    }
    const std::uint64_t raw = big_endian(arrange(registers, point.order));
    if (point.bit) {
        return Decimal{static_cast<std::int64_t>((raw >> *point.bit) & 1U), 0};
    }
    if (point.type == ValueType::F32) {
        const auto value = shortest(std::bit_cast<float>(static_cast<std::uint32_t>(raw)));
        if (!value) return unexpected(value.error());
        return scaled_float(*value, point.scale, point.decimals);
    }
    if (point.type == ValueType::F64) {
        const auto value = shortest(std::bit_cast<double>(raw));
        if (!value) return unexpected(value.error());
        return scaled_float(*value, point.scale, point.decimals);
    }
    const auto integer = raw_integer(point, raw);
    if (!integer) return unexpected(integer.error());
    return scaled_integer(*integer, point.scale);
}

Expected<Decimal> decode_bit(const Point& point, std::uint8_t bit) {
    if (!is_bit_table(point.table)) {
        return fail("point " + point.quantity + " is in a register table; use decode_point");
    }
    if (bit > 1) return fail("a bit must be 0 or 1, got " + std::to_string(bit));
    return Decimal{bit, 0};
}

Expected<std::vector<std::uint16_t>> encode_point(const Point& point, const Decimal& value) {
    if (is_bit_table(point.table)) {
        return fail("point " + point.quantity + " is a bit; encode it with encode_bit");
    }
    const std::size_t count = register_count(point.type);
    if (point.bit) {
        if (!(value == Decimal{0, 0}) && !(value == Decimal{1, 0})) {
            return fail("flag " + point.quantity + " takes 0 or 1, not " + value.to_string());
        }
        const std::uint64_t raw = static_cast<std::uint64_t>(value.rescaled(0)) << *point.bit;
        return arrange(words_of(raw, count), point.order);
    }
    const auto raw = encode_raw(point, value);
    if (!raw) return unexpected(raw.error());
    return arrange(words_of(*raw, count), point.order);
}

Expected<std::uint8_t> encode_bit(const Point& point, const Decimal& value) {
    if (!is_bit_table(point.table)) {
        return fail("point " + point.quantity + " is in a register table; use encode_point");
    }
    if (value == Decimal{0, 0}) return std::uint8_t{0};
    if (value == Decimal{1, 0}) return std::uint8_t{1};
    return fail("a bit takes 0 or 1, not " + value.to_string());
}

}  // namespace ecmgw::modbus
