// Checking that a received frame answers the request we sent, and taking out its payload.
#include <array>
#include <utility>

#include "ecmgw/protocols/dlt645.hpp"

namespace ecmgw::dlt645 {

namespace {

constexpr std::size_t kDiLength = 4;

std::string hex(std::uint64_t value, int digits) {
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

// Abnormal answers carry one error byte; without it there is nothing the meter told us.
Unexpected<AnswerError> abnormal_answer(const Frame& frame) {
    if (frame.data.empty()) {
        return answer_error(
            AnswerErrorKind::Malformed,
            "abnormal answer (" + control_text(frame.control) + ") without an error byte");
    }
    const std::uint8_t word = frame.data[0];
    return unexpected(AnswerError{AnswerErrorKind::Abnormal, word,
                                  "meter reports: " + describe_error_word(word)});
}

std::optional<AnswerError> check_direction(const Frame& frame) {
    if (frame.from_meter()) return std::nullopt;
    // On a half-duplex bus the adapter may hand back our own request.
    return AnswerError{AnswerErrorKind::WrongFunction, 0,
                       "frame with " + control_text(frame.control) +
                           " goes to a meter: it is a request, not an answer"};
}

// A request to the wildcard address is answered by whichever meter is on the bus.
std::optional<AnswerError> check_address(const Frame& frame, const Address& meter) {
    if (meter.is_wildcard() || frame.address == meter) return std::nullopt;
    return AnswerError{
        AnswerErrorKind::WrongAddress, 0,
        "answer from meter " + frame.address.to_string() + ", asked meter " + meter.to_string()};
}

DataId data_id_of(const Bytes& data) {
    return static_cast<DataId>(data[0]) | static_cast<DataId>(data[1]) << 8 |
           static_cast<DataId>(data[2]) << 16 | static_cast<DataId>(data[3]) << 24;
}

bool is_read_function(std::uint8_t function) {
    return function == static_cast<std::uint8_t>(Function::Read) ||
           function == static_cast<std::uint8_t>(Function::ReadFollowUp);
}

// A whole answer for a DI this codec knows must have that DI's length; a partial one
// (more to follow, or a follow-up piece) is only part of the value.
std::optional<AnswerError> check_value_length(const ReadAnswer& answer) {
    if (answer.more_follows || answer.seq) return std::nullopt;
    const DataItem* item = find_data_item(answer.di);
    if (item == nullptr || answer.value.size() == item->length) return std::nullopt;
    return AnswerError{AnswerErrorKind::Malformed, 0,
                       "answer for DI " + hex(answer.di, 8) + " (" + std::string(item->quantity) +
                           ") has " + std::to_string(answer.value.size()) +
                           " value bytes, expected " + std::to_string(item->length)};
}

}  // namespace

Expected<ReadAnswer, AnswerError> decode_read_answer(const Frame& frame, const Address& meter,
                                                     DataId di) {
    if (auto error = check_direction(frame)) return unexpected(std::move(*error));
    if (auto error = check_address(frame, meter)) return unexpected(std::move(*error));
    if (!is_read_function(frame.function())) {
        return answer_error(AnswerErrorKind::WrongFunction,
                            "not a read answer: " + control_text(frame.control));
    }
    if (frame.abnormal()) return abnormal_answer(frame);
    if (frame.data.size() < kDiLength) {
        return answer_error(AnswerErrorKind::Malformed, "read answer has " +
                                                            std::to_string(frame.data.size()) +
                                                            " data bytes, too few for a DI");
    }
    ReadAnswer answer;
    answer.di = data_id_of(frame.data);
    if (answer.di != di) {
        return answer_error(AnswerErrorKind::WrongDataId,
                            "answer for DI " + hex(answer.di, 8) + ", asked DI " + hex(di, 8));
    }
    auto value_end = frame.data.end();
    if (frame.function() == static_cast<std::uint8_t>(Function::ReadFollowUp)) {
        if (frame.data.size() == kDiLength) {
            return answer_error(AnswerErrorKind::Malformed,
                                "follow-up answer for DI " + hex(di, 8) + " has no SEQ byte");
        }
        answer.seq = frame.data.back();
        --value_end;
    }
    answer.value.assign(frame.data.begin() + kDiLength, value_end);
    answer.more_follows = frame.has_follow_up();
    if (auto error = check_value_length(answer)) return unexpected(std::move(*error));
    return answer;
}

Expected<Address, AnswerError> decode_read_address_answer(const Frame& frame) {
    if (auto error = check_direction(frame)) return unexpected(std::move(*error));
    if (frame.function() != static_cast<std::uint8_t>(Function::ReadAddress)) {
        return answer_error(AnswerErrorKind::WrongFunction,
                            "not a read-address answer: " + control_text(frame.control));
    }
    if (frame.abnormal()) return abnormal_answer(frame);
    Address address;
    if (frame.data.size() != address.wire.size()) {
        return answer_error(AnswerErrorKind::Malformed, "read-address answer has " +
                                                            std::to_string(frame.data.size()) +
                                                            " data bytes, expected 6");
    }
    std::copy(frame.data.begin(), frame.data.end(), address.wire.begin());
    if (address != frame.address) {
        return answer_error(AnswerErrorKind::Malformed,
                            "read-address answer carries " + address.to_string() +
                                " but comes from address field " + frame.address.to_string());
    }
    return address;
}

Expected<void, AnswerError> decode_control_answer(const Frame& frame, const Address& meter) {
    if (auto error = check_direction(frame)) return unexpected(std::move(*error));
    if (auto error = check_address(frame, meter)) return unexpected(std::move(*error));
    if (frame.function() != static_cast<std::uint8_t>(Function::Control)) {
        return answer_error(AnswerErrorKind::WrongFunction,
                            "not a control answer: " + control_text(frame.control));
    }
    if (frame.abnormal()) return abnormal_answer(frame);
    // The standard's 9C has no DATA. Bytes there are not refused: the command was carried
    // out, refusing would only make the poller send it again, and the relay state is
    // confirmed by reading status word 3 anyway.
    return {};
}

std::string_view describe_answer_error_kind(AnswerErrorKind kind) {
    switch (kind) {
        case AnswerErrorKind::WrongAddress:
            return "wrong address";
        case AnswerErrorKind::WrongFunction:
            return "wrong function";
        case AnswerErrorKind::WrongDataId:
            return "wrong data identifier";
        case AnswerErrorKind::Malformed:
            return "malformed answer";
        case AnswerErrorKind::Abnormal:
            return "abnormal answer";
    }
    return "unknown error";
}

std::string describe_error_word(std::uint8_t error_word) {
    static constexpr std::array<std::pair<std::uint8_t, const char*>, 7> kBits{{
        {kErrOther, "other error"},
        {kErrNoData, "no requested data"},
        {kErrUnauthorised, "password wrong or unauthorised"},
        {kErrBaudUnchangeable, "baud rate cannot change"},
        {kErrYearZones, "too many year time zones"},
        {kErrDayPeriods, "too many day periods"},
        {kErrTariffs, "too many tariffs"},
    }};
    std::string words;
    for (const auto& [bit, text] : kBits) {
        if ((error_word & bit) == 0) continue;
        if (!words.empty()) words += "; ";
        words += text;
    }
    if ((error_word & 0x80) != 0) words += words.empty() ? "reserved bit 7" : "; reserved bit 7";
    return words.empty() ? "no error bits set" : words;
}

RelayStatus decode_relay_status(std::uint16_t status_word_3) {
    RelayStatus status;
    status.open = (status_word_3 & (1U << 4)) != 0;
    status.open_commanded = (status_word_3 & (1U << 6)) != 0;
    status.pre_trip_alarm = (status_word_3 & (1U << 7)) != 0;
    status.prepaid_type = static_cast<std::uint8_t>((status_word_3 >> 8) & 0x03);
    return status;
}

}  // namespace ecmgw::dlt645
