// Checking that a received DL/T 645-1997 frame answers the read we sent.
#include <array>
#include <optional>
#include <utility>

#include "ecmgw/protocols/dlt645_1997.hpp"

namespace ecmgw::dlt645_1997 {

namespace {

using dlt645::AnswerError;
using dlt645::AnswerErrorKind;

constexpr std::size_t kDiLength = 2;

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

bool is_read_function(std::uint8_t function) {
    return function == static_cast<std::uint8_t>(Function::Read) ||
           function == static_cast<std::uint8_t>(Function::ReadFollowUp);
}

// Everything but the DATA: direction, meter, function, abnormal bit.
std::optional<AnswerError> check_header(const dlt645::Frame& frame, const dlt645::Address& meter) {
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
    if (!is_read_function(frame.function())) {
        // A DL/T 645-2007 answer (91) lands here too: the meter speaks the other protocol.
        return AnswerError{AnswerErrorKind::WrongFunction, 0,
                           "not a DL/T 645-1997 read answer: " + control_text(frame.control)};
    }
    if (!frame.abnormal()) return std::nullopt;
    if (frame.data.empty()) {
        return AnswerError{
            AnswerErrorKind::Malformed, 0,
            "abnormal answer (" + control_text(frame.control) + ") without an error byte"};
    }
    const std::uint8_t word = frame.data[0];
    return AnswerError{AnswerErrorKind::Abnormal, word,
                       "meter reports: " + describe_error_word(word)};
}

DataId data_id_of(const dlt645::Bytes& data) { return static_cast<DataId>(data[0] | data[1] << 8); }

// A whole answer for a DI this codec knows must have that DI's length; a partial one
// (more to follow) is only part of the value.
std::optional<AnswerError> check_value_length(const dlt645::ReadAnswer& answer) {
    if (answer.more_follows) return std::nullopt;
    const dlt645::DataItem* item = find_data_item(static_cast<DataId>(answer.di));
    if (item == nullptr || answer.value.size() == item->length) return std::nullopt;
    return AnswerError{AnswerErrorKind::Malformed, 0,
                       "answer for DI " + hex(answer.di, 4) + " (" + std::string(item->quantity) +
                           ") has " + std::to_string(answer.value.size()) +
                           " value bytes, expected " + std::to_string(item->length)};
}

}  // namespace

Expected<dlt645::ReadAnswer, AnswerError> decode_read_answer(const dlt645::Frame& frame,
                                                             const dlt645::Address& meter,
                                                             DataId di) {
    if (auto error = check_header(frame, meter)) return unexpected(std::move(*error));
    if (frame.data.size() < kDiLength) {
        return answer_error(AnswerErrorKind::Malformed, "read answer has " +
                                                            std::to_string(frame.data.size()) +
                                                            " data bytes, too few for a DI");
    }
    dlt645::ReadAnswer answer;
    answer.di = data_id_of(frame.data);
    if (answer.di != di) {
        return answer_error(AnswerErrorKind::WrongDataId,
                            "answer for DI " + hex(answer.di, 4) + ", asked DI " + hex(di, 4));
    }
    answer.value.assign(frame.data.begin() + kDiLength, frame.data.end());
    answer.more_follows = frame.has_follow_up();
    if (auto error = check_value_length(answer)) return unexpected(std::move(*error));
    return answer;
}

std::string describe_error_word(std::uint8_t error_word) {
    static constexpr std::array<std::pair<std::uint8_t, const char*>, 6> kBits{{
        {kErrIllegalData, "illegal data"},
        {kErrDataId, "wrong data identifier"},
        {kErrPassword, "password wrong"},
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
    for (std::uint8_t reserved : {std::uint8_t{0x08}, std::uint8_t{0x80}}) {
        if ((error_word & reserved) == 0) continue;
        if (!words.empty()) words += "; ";
        words += "reserved bit " + std::to_string(reserved == 0x08 ? 3 : 7);
    }
    return words.empty() ? "no error bits set" : words;
}

}  // namespace ecmgw::dlt645_1997
