// Value formats: packed BCD decimals, dates, times, status words and addresses.
#include <algorithm>
#include <cstdlib>

#include "ecmgw/protocols/dlt645.hpp"

namespace ecmgw::dlt645 {

namespace {

// 18 digits always fit an int64; a 19th could overflow it.
constexpr std::size_t kMaxBcdBytes = 9;
constexpr std::uint8_t kSignBit = 0x80;

constexpr std::size_t kDateBytes = 4;
constexpr std::size_t kTimeBytes = 3;
constexpr std::size_t kStatusBytes = 2;
constexpr std::size_t kAddressBytes = 6;

std::string hex(unsigned value, int digits) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string text(static_cast<std::size_t>(digits), '0');
    for (int i = digits - 1; i >= 0; --i, value >>= 4) {
        text[static_cast<std::size_t>(i)] = kHex[value & 0x0F];
    }
    return text;
}

std::string two_digits(int value) {
    return std::string(value >= 0 && value < 10 ? "0" : "") + std::to_string(value);
}

bool is_bcd(std::uint8_t byte) { return (byte >> 4) <= 9 && (byte & 0x0F) <= 9; }

int bcd_value(std::uint8_t byte) { return (byte >> 4) * 10 + (byte & 0x0F); }

std::uint8_t to_bcd(int value) {
    return static_cast<std::uint8_t>((value / 10) << 4 | (value % 10));
}

Unexpected<Error> not_bcd(std::size_t index, std::uint8_t byte) {
    return fail("byte " + std::to_string(index) + " is 0x" + hex(byte, 2) + ": not BCD");
}

// Two BCD digits from byte `index` of a value, for the date and time fields.
Expected<int> bcd_field(ByteView bytes, std::size_t index) {
    if (!is_bcd(bytes[index])) return not_bcd(index, bytes[index]);
    return bcd_value(bytes[index]);
}

// `value` rescaled to `target` digits after the point, refusing to lose digits or overflow.
Expected<std::int64_t> rescale_exactly(const Decimal& value, std::uint8_t target) {
    std::int64_t m = value.mantissa;
    for (unsigned s = value.scale; s < target && m != 0; ++s) {
        if (__builtin_mul_overflow(m, 10, &m)) {
            return fail("value " + value.to_string() + " is too large to have " +
                        std::to_string(target) + " decimals");
        }
    }
    for (unsigned s = value.scale; s > target && m != 0; --s) {
        if (m % 10 != 0) {
            return fail("value " + value.to_string() + " has more than " + std::to_string(target) +
                        " decimals");
        }
        m /= 10;
    }
    return m;
}

int days_in_month(int year, int month) {
    static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : kDays[month - 1];
}

bool in_range(int value, int low, int high) { return value >= low && value <= high; }

Result check_date(const DateTime& t) {
    if (!in_range(t.year, 2000, 2099))
        return fail("year " + std::to_string(t.year) + " is not 2000-2099");
    if (!in_range(t.month, 1, 12)) return fail("month " + std::to_string(t.month) + " is not 1-12");
    if (!in_range(t.day, 1, days_in_month(t.year, t.month))) {
        return fail("day " + std::to_string(t.day) + " does not exist in " +
                    std::to_string(t.year) + "-" + two_digits(t.month));
    }
    if (!in_range(t.weekday, 0, 6)) {
        return fail("weekday " + std::to_string(t.weekday) + " is not 0-6 (0 = Sunday)");
    }
    return {};
}

Result check_time(const DateTime& t) {
    if (!in_range(t.hour, 0, 23)) return fail("hour " + std::to_string(t.hour) + " is not 0-23");
    if (!in_range(t.minute, 0, 59))
        return fail("minute " + std::to_string(t.minute) + " is not 0-59");
    if (!in_range(t.second, 0, 59))
        return fail("second " + std::to_string(t.second) + " is not 0-59");
    return {};
}

std::size_t natural_length(ValueFormat format) {
    switch (format) {
        case ValueFormat::Date:
            return kDateBytes;
        case ValueFormat::Time:
            return kTimeBytes;
        case ValueFormat::StatusWord:
            return kStatusBytes;
        case ValueFormat::AddressValue:
            return kAddressBytes;
        case ValueFormat::Decimal:
            break;
    }
    return 0;  // any length
}

// The data item table and the format must agree, or neither direction can work.
Result check_item_length(const DataItem& item) {
    const std::size_t natural = natural_length(item.format);
    if (natural == 0 || natural == item.length) return {};
    // DL/T 645-1997 has status words of one byte (C020).
    if (item.format == ValueFormat::StatusWord && item.length == 1) return {};
    return fail(std::string(item.quantity) + " is declared with " + std::to_string(item.length) +
                " bytes but its format has " + std::to_string(natural));
}

// On the wire YYMMDDWW, low byte first: WW DD MM YY.
Expected<Value> decode_date(ByteView bytes) {
    Value v;
    v.format = ValueFormat::Date;
    std::array<int, kDateBytes> field{};
    for (std::size_t i = 0; i < kDateBytes; ++i) {
        auto f = bcd_field(bytes, i);
        if (!f) return unexpected(f.error());
        field[i] = *f;
    }
    v.when.weekday = field[0];
    v.when.day = field[1];
    v.when.month = field[2];
    v.when.year = 2000 + field[3];
    if (auto ok = check_date(v.when); !ok) return unexpected(ok.error());
    return v;
}

// On the wire hhmmss, low byte first: ss mm hh.
Expected<Value> decode_time(ByteView bytes) {
    Value v;
    v.format = ValueFormat::Time;
    std::array<int, kTimeBytes> field{};
    for (std::size_t i = 0; i < kTimeBytes; ++i) {
        auto f = bcd_field(bytes, i);
        if (!f) return unexpected(f.error());
        field[i] = *f;
    }
    v.when.second = field[0];
    v.when.minute = field[1];
    v.when.hour = field[2];
    if (auto ok = check_time(v.when); !ok) return unexpected(ok.error());
    return v;
}

Value decode_status_word(ByteView bytes) {
    Value v;
    v.format = ValueFormat::StatusWord;
    v.status = static_cast<std::uint16_t>(bytes.size() == 1 ? bytes[0] : bytes[0] | bytes[1] << 8);
    v.number = Decimal{v.status, 0};
    return v;
}

Value decode_address(ByteView bytes) {
    Value v;
    v.format = ValueFormat::AddressValue;
    std::copy_n(bytes.begin(), kAddressBytes, v.address.wire.begin());
    return v;
}

Expected<Bytes> encode_date(const DateTime& t) {
    if (auto ok = check_date(t); !ok) return unexpected(ok.error());
    return Bytes{to_bcd(t.weekday), to_bcd(t.day), to_bcd(t.month), to_bcd(t.year - 2000)};
}

Expected<Bytes> encode_time(const DateTime& t) {
    if (auto ok = check_time(t); !ok) return unexpected(ok.error());
    return Bytes{to_bcd(t.second), to_bcd(t.minute), to_bcd(t.hour)};
}

Expected<Bytes> encode_status_word(const DataItem& item, std::uint16_t status) {
    const Bytes both{static_cast<std::uint8_t>(status & 0xFF),
                     static_cast<std::uint8_t>(status >> 8)};
    if (item.length == kStatusBytes) return both;
    if (both[1] != 0) {
        return fail(std::string(item.quantity) + ": status word 0x" + hex(status, 4) +
                    " does not fit in " + std::to_string(item.length) + " byte");
    }
    return Bytes{both[0]};
}

template <class T>
Expected<T> with_context(Expected<T> result, const DataItem& item) {
    if (result) return result;
    return fail(std::string(item.quantity) + ": " + result.error().message);
}

}  // namespace

Expected<Decimal> decode_bcd_decimal(ByteView bytes, std::uint8_t decimals, bool is_signed) {
    if (bytes.empty()) return fail("no bytes to decode as BCD");
    if (bytes.size() > kMaxBcdBytes) {
        return fail(std::to_string(bytes.size()) + " BCD bytes are more than the " +
                    std::to_string(kMaxBcdBytes) + " a number can hold");
    }
    bool negative = false;
    std::int64_t magnitude = 0;
    for (std::size_t i = bytes.size(); i-- > 0;) {
        std::uint8_t byte = bytes[i];
        if (is_signed && i == bytes.size() - 1) {
            negative = (byte & kSignBit) != 0;
            byte &= static_cast<std::uint8_t>(~kSignBit);
        }
        if (!is_bcd(byte)) return not_bcd(i, bytes[i]);
        magnitude = magnitude * 100 + bcd_value(byte);
    }
    return Decimal{negative ? -magnitude : magnitude, decimals};
}

Expected<Bytes> encode_bcd_decimal(const Decimal& value, std::size_t length, std::uint8_t decimals,
                                   bool is_signed) {
    if (length == 0 || length > kMaxDataLength) {
        return fail("cannot encode a BCD number into " + std::to_string(length) + " bytes");
    }
    auto scaled = rescale_exactly(value, decimals);
    if (!scaled) return unexpected(scaled.error());
    const bool negative = *scaled < 0;
    if (negative && !is_signed) {
        return fail("value " + value.to_string() + " is negative but the field is unsigned");
    }
    // Unsigned arithmetic, so that the magnitude of INT64_MIN does not overflow.
    std::uint64_t magnitude =
        negative ? 0 - static_cast<std::uint64_t>(*scaled) : static_cast<std::uint64_t>(*scaled);
    Bytes out(length, 0);
    for (auto& byte : out) {
        byte = static_cast<std::uint8_t>((magnitude / 10 % 10) << 4 | magnitude % 10);
        magnitude /= 100;
    }
    if (magnitude != 0 || (is_signed && (out.back() & kSignBit) != 0)) {
        return fail("value " + value.to_string() + " does not fit in " + std::to_string(length) +
                    " BCD bytes with " + std::to_string(decimals) + " decimals" +
                    (is_signed ? " and a sign" : ""));
    }
    if (negative) out.back() |= kSignBit;
    return out;
}

Expected<Value> decode_value(const DataItem& item, ByteView bytes) {
    if (auto ok = check_item_length(item); !ok) return unexpected(ok.error());
    if (bytes.size() != item.length) {
        return fail(std::string(item.quantity) + " needs " + std::to_string(item.length) +
                    " bytes, got " + std::to_string(bytes.size()));
    }
    switch (item.format) {
        case ValueFormat::Decimal: {
            auto number = decode_bcd_decimal(bytes, item.decimals, item.is_signed);
            if (!number) return with_context<Value>(unexpected(number.error()), item);
            Value v;
            v.number = *number;
            return v;
        }
        case ValueFormat::Date:
            return with_context(decode_date(bytes), item);
        case ValueFormat::Time:
            return with_context(decode_time(bytes), item);
        case ValueFormat::StatusWord:
            return decode_status_word(bytes);
        case ValueFormat::AddressValue:
            return decode_address(bytes);
    }
    return fail(std::string(item.quantity) + " has an unknown value format");
}

Expected<Bytes> encode_value(const DataItem& item, const Value& value) {
    if (auto ok = check_item_length(item); !ok) return unexpected(ok.error());
    if (value.format != item.format) {
        return fail(std::string(item.quantity) + ": the value has another format than the item");
    }
    switch (item.format) {
        case ValueFormat::Decimal:
            return with_context(
                encode_bcd_decimal(value.number, item.length, item.decimals, item.is_signed), item);
        case ValueFormat::Date:
            return with_context(encode_date(value.when), item);
        case ValueFormat::Time:
            return with_context(encode_time(value.when), item);
        case ValueFormat::StatusWord:
            return encode_status_word(item, value.status);
        case ValueFormat::AddressValue:
            return Bytes(value.address.wire.begin(), value.address.wire.end());
    }
    return fail(std::string(item.quantity) + " has an unknown value format");
}

std::string Value::to_string() const {
    switch (format) {
        case ValueFormat::Decimal:
            return number.to_string();
        case ValueFormat::Date:
            return std::to_string(when.year) + "-" + two_digits(when.month) + "-" +
                   two_digits(when.day);
        case ValueFormat::Time:
            return two_digits(when.hour) + ":" + two_digits(when.minute) + ":" +
                   two_digits(when.second);
        case ValueFormat::StatusWord:
            return "0x" + hex(status, 4);
        case ValueFormat::AddressValue:
            return address.to_string();
    }
    return number.to_string();
}

}  // namespace ecmgw::dlt645
