// Checking that a received frame answers the request we sent, and decoding its payload.
#include <algorithm>
#include <array>
#include <optional>
#include <utility>

#include "ecmgw/protocols/cjt188.hpp"

namespace ecmgw::cjt188 {

namespace {

// DI0 DI1 SER start the DATA of every normal answer.
constexpr std::size_t kSer = 2;
constexpr std::size_t kHeaderLength = 3;

// 901F of a water or gas meter: DI SER, current flow (4) + unit, settlement flow (4) + unit,
// time (7), ST (2).
constexpr std::size_t kCurrent = 3;
constexpr std::size_t kCurrentUnit = 7;
constexpr std::size_t kSettlement = 8;
constexpr std::size_t kSettlementUnit = 12;
constexpr std::size_t kTime = 13;
constexpr std::size_t kTimeLength = 7;
constexpr std::size_t kReadDataStatus = 20;
constexpr std::size_t kReadDataLength = 22;
constexpr std::size_t kFlowBytes = 4;
constexpr std::uint8_t kFlowDecimals = 2;

// The valve answer: DI SER ST.
constexpr std::size_t kValveStatus = 3;
constexpr std::size_t kValveLength = 5;

// The standard's abnormal answer: SER ST (L = 3).
constexpr std::size_t kAbnormalLength = 3;

std::string hex(unsigned value, int digits) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string text(static_cast<std::size_t>(digits), '0');
    for (int i = digits - 1; i >= 0; --i, value >>= 4) {
        text[static_cast<std::size_t>(i)] = kHex[value & 0x0F];
    }
    return text;
}

std::string control_text(std::uint8_t control) { return "control 0x" + hex(control, 2); }

Unexpected<AnswerError> answer_error(AnswerErrorKind kind, std::string message) {
    return unexpected(AnswerError{kind, 0, std::move(message)});
}

std::uint16_t word_at(const Bytes& data, std::size_t at) {
    return static_cast<std::uint16_t>(data[at] | data[at + 1] << 8);
}

std::string describe_status(std::uint16_t raw) {
    const MeterStatus status = decode_status(raw);
    return "status 0x" + hex(raw, 4) + " (valve " + std::string(valve_name(status.valve)) +
           (status.battery_low ? ", battery low)" : ")");
}

// What a request expects of its answer; `ser` is empty when the request's SER is not known.
struct Expectation {
    Function function;
    DataId di;
    std::optional<std::uint8_t> ser;
};

std::optional<AnswerError> check_serial(std::uint8_t got, const Expectation& want) {
    if (!want.ser || got == *want.ser) return std::nullopt;
    return AnswerError{
        AnswerErrorKind::WrongSerial, 0,
        "answer with SER " + std::to_string(got) + ", asked with SER " + std::to_string(*want.ser)};
}

// The standard's abnormal answer is SER ST. Another layout still reports the meter's refusal,
// with its first byte, rather than hiding it behind Malformed.
AnswerError abnormal_answer(const Frame& frame, const Expectation& want) {
    const std::string what = "abnormal answer (" + control_text(frame.control) + ")";
    if (frame.data.empty()) {
        return AnswerError{AnswerErrorKind::Malformed, 0, what + " without an error byte"};
    }
    if (frame.data.size() != kAbnormalLength) {
        return AnswerError{
            AnswerErrorKind::Abnormal, frame.data[0],
            "meter reports an error: " + what + " with error byte 0x" + hex(frame.data[0], 2)};
    }
    if (auto error = check_serial(frame.data[0], want)) return std::move(*error);
    return AnswerError{AnswerErrorKind::Abnormal, frame.data[1],
                       "meter reports an error: " + describe_status(word_at(frame.data, 1))};
}

// Direction, meter, function and the abnormal bit, then DI and SER.
std::optional<AnswerError> check_answer(const Frame& frame, const Address& meter,
                                        const Expectation& want) {
    if (!frame.from_meter()) {
        // On a half-duplex bus the adapter may hand back our own request.
        return AnswerError{AnswerErrorKind::WrongFunction, 0,
                           "frame with " + control_text(frame.control) +
                               " goes to a meter: it is a request, not an answer"};
    }
    if (!meter.is_wildcard() && frame.address != meter) {
        return AnswerError{AnswerErrorKind::WrongAddress, 0,
                           "answer from meter " + frame.address.to_string() + ", asked meter " +
                               meter.to_string()};
    }
    if (frame.function() != static_cast<std::uint8_t>(want.function)) {
        return AnswerError{AnswerErrorKind::WrongFunction, 0,
                           "answer with " + control_text(frame.control) + ", expected function 0x" +
                               hex(static_cast<unsigned>(want.function), 2)};
    }
    if (frame.abnormal()) return abnormal_answer(frame, want);
    if (frame.data.size() < kHeaderLength) {
        return AnswerError{AnswerErrorKind::Malformed, 0,
                           "answer has " + std::to_string(frame.data.size()) +
                               " data bytes, too few for DI and SER"};
    }
    const DataId di = word_at(frame.data, 0);
    if (di != want.di) {
        return AnswerError{AnswerErrorKind::WrongDataId, 0,
                           "answer for DI " + hex(di, 4) + ", asked DI " + hex(want.di, 4)};
    }
    return check_serial(frame.data[kSer], want);
}

// Heat meters (types 20-29) answer 901F with heat, power, flow and temperatures: another
// layout that would decode here into wrong numbers.
bool has_flow_layout(std::uint8_t type) { return type < 0x20 || type > 0x29; }

bool is_bcd(std::uint8_t byte) { return (byte >> 4) <= 9 && (byte & 0x0F) <= 9; }

int bcd_value(std::uint8_t byte) { return (byte >> 4) * 10 + (byte & 0x0F); }

int days_in_month(int year, int month) {
    static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : kDays[month - 1];
}

// 0 = Sunday, as DL/T 645's WW field (Sakamoto's method).
int weekday_of(int year, int month, int day) {
    static constexpr int kOffset[] = {0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4};
    const int y = month < 3 ? year - 1 : year;
    return (y + y / 4 - y / 100 + y / 400 + kOffset[month - 1] + day) % 7;
}

bool in_range(int value, int low, int high) { return value >= low && value <= high; }

// ss mm hh DD MM YYYY (the year's low byte first); empty unless a real date and time.
std::optional<dlt645::DateTime> decode_time(ByteView bytes) {
    std::array<int, kTimeLength> f{};
    for (std::size_t i = 0; i < kTimeLength; ++i) {
        if (!is_bcd(bytes[i])) return std::nullopt;
        f[i] = bcd_value(bytes[i]);
    }
    dlt645::DateTime t;
    t.second = f[0];
    t.minute = f[1];
    t.hour = f[2];
    t.day = f[3];
    t.month = f[4];
    t.year = f[6] * 100 + f[5];
    if (!in_range(t.year, 2000, 2099) || !in_range(t.month, 1, 12) ||
        !in_range(t.day, 1, days_in_month(t.year, t.month)) || !in_range(t.hour, 0, 23) ||
        !in_range(t.minute, 0, 59) || !in_range(t.second, 0, 59)) {
        return std::nullopt;
    }
    t.weekday = weekday_of(t.year, t.month, t.day);
    return t;
}

Expected<Decimal, AnswerError> decode_flow(const Bytes& data, std::size_t at,
                                           std::string_view what) {
    auto number =
        dlt645::decode_bcd_decimal(ByteView(data).subspan(at, kFlowBytes), kFlowDecimals, false);
    if (!number) {
        return answer_error(AnswerErrorKind::Malformed,
                            std::string(what) + " flow: " + number.error().message);
    }
    return *number;
}

}  // namespace

Expected<FlowReading, AnswerError> decode_read_data_answer(const Frame& frame,
                                                           const Address& expected,
                                                           std::uint8_t ser) {
    if (auto error = check_answer(frame, expected, {Function::ReadData, kDiReadData, ser})) {
        return unexpected(std::move(*error));
    }
    if (!has_flow_layout(frame.type)) {
        return answer_error(AnswerErrorKind::WrongMeterType,
                            "read-data answer from a heat meter (type 0x" + hex(frame.type, 2) +
                                "): not a water or gas meter's layout");
    }
    // Bytes after the status are vendor extensions: the fields before them stay where they are.
    if (frame.data.size() < kReadDataLength) {
        return answer_error(AnswerErrorKind::Malformed,
                            "read-data answer has " + std::to_string(frame.data.size()) +
                                " data bytes, expected " + std::to_string(kReadDataLength));
    }
    auto current = decode_flow(frame.data, kCurrent, "current");
    if (!current) return unexpected(current.error());
    auto settlement = decode_flow(frame.data, kSettlement, "settlement");
    if (!settlement) return unexpected(settlement.error());
    FlowReading reading;
    reading.current = *current;
    reading.current_unit = frame.data[kCurrentUnit];
    reading.settlement = *settlement;
    reading.settlement_unit = frame.data[kSettlementUnit];
    reading.meter_time = decode_time(ByteView(frame.data).subspan(kTime, kTimeLength));
    reading.status = decode_status(word_at(frame.data, kReadDataStatus));
    return reading;
}

Expected<MeterStatus, AnswerError> decode_valve_answer(const Frame& frame, const Address& meter,
                                                       std::uint8_t ser) {
    if (auto error = check_answer(frame, meter, {Function::WriteData, kDiValve, ser})) {
        return unexpected(std::move(*error));
    }
    if (frame.data.size() < kValveLength) {
        return answer_error(AnswerErrorKind::Malformed,
                            "valve answer has " + std::to_string(frame.data.size()) +
                                " data bytes, expected " + std::to_string(kValveLength));
    }
    return decode_status(word_at(frame.data, kValveStatus));
}

Expected<Address, AnswerError> decode_read_address_answer(const Frame& frame) {
    const Expectation want{Function::ReadAddress, kDiReadAddress, std::nullopt};
    if (auto error = check_answer(frame, Address::wildcard(), want)) {
        return unexpected(std::move(*error));
    }
    if (frame.address.is_wildcard()) {
        return answer_error(AnswerErrorKind::Malformed,
                            "read-address answer comes from the wildcard address");
    }
    // The standard puts the address in the address field only; a meter that repeats it
    // after SER must repeat the same one.
    Address repeated;
    if (frame.data.size() >= kHeaderLength + repeated.wire.size()) {
        std::copy_n(frame.data.begin() + kHeaderLength, repeated.wire.size(),
                    repeated.wire.begin());
        if (repeated != frame.address) {
            return answer_error(AnswerErrorKind::Malformed,
                                "read-address answer carries " + repeated.to_string() +
                                    " but comes from address field " + frame.address.to_string());
        }
    }
    return frame.address;
}

std::string_view describe_answer_error_kind(AnswerErrorKind kind) {
    switch (kind) {
        case AnswerErrorKind::WrongAddress:
            return "wrong address";
        case AnswerErrorKind::WrongMeterType:
            return "wrong meter type";
        case AnswerErrorKind::WrongFunction:
            return "wrong function";
        case AnswerErrorKind::WrongDataId:
            return "wrong data identifier";
        case AnswerErrorKind::WrongSerial:
            return "wrong serial number";
        case AnswerErrorKind::Malformed:
            return "malformed answer";
        case AnswerErrorKind::Abnormal:
            return "abnormal answer";
    }
    return "unknown error";
}

}  // namespace ecmgw::cjt188
