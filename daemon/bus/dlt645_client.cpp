#include "bus/dlt645_client.hpp"

#include "ecmgw/protocols/dlt645_1997.hpp"

#include <algorithm>
#include <array>

namespace ecmgw::bus {

ReadError from_answer_error(const dlt645::AnswerError& e) {
    const auto kind =
        e.kind == dlt645::AnswerErrorKind::Abnormal ? ReadFailure::Refused : ReadFailure::Mismatch;
    return ReadError{kind, e.message};
}

Expected<dlt645::Frame, ReadError> Dlt645Client::exchange(
    const dlt645::Bytes& request, const std::function<bool(const dlt645::Frame&)>& is_answer) {
    return exchange_frame<dlt645::Frame>(
        ex_, request, [](dlt645::ByteView b) { return dlt645::scan(b); }, is_answer);
}

Expected<dlt645::ReadAnswer, ReadError> Dlt645Client::read_raw(const dlt645::Address& meter,
                                                               dlt645::DataId di) {
    auto frame = exchange(dlt645::encode_read(meter, di), [&](const dlt645::Frame& f) {
        return meter.is_wildcard() || f.address == meter;
    });
    if (!frame) return unexpected(frame.error());
    auto answer = dlt645::decode_read_answer(*frame, meter, di);
    if (!answer) return unexpected(from_answer_error(answer.error()));
    return *answer;
}

Expected<dlt645::Value, ReadError> Dlt645Client::read(const dlt645::Address& meter,
                                                      const dlt645::DataItem& item) {
    auto answer = read_raw(meter, item.di);
    if (!answer) return unexpected(answer.error());
    auto value = dlt645::decode_value(item, answer->value);
    if (!value) return unexpected(ReadError{ReadFailure::Invalid, value.error().message});
    return *value;
}

Expected<dlt645::ReadAnswer, ReadError> Dlt645Client::read_raw_1997(const dlt645::Address& meter,
                                                                    std::uint16_t di) {
    auto frame = exchange(dlt645_1997::encode_read(meter, di), [&](const dlt645::Frame& f) {
        return meter.is_wildcard() || f.address == meter;
    });
    if (!frame) return unexpected(frame.error());
    auto answer = dlt645_1997::decode_read_answer(*frame, meter, di);
    if (!answer) return unexpected(from_answer_error(answer.error()));
    return *answer;
}

Expected<dlt645::Value, ReadError> Dlt645Client::read_1997(const dlt645::Address& meter,
                                                           const dlt645::DataItem& item) {
    auto answer = read_raw_1997(meter, static_cast<std::uint16_t>(item.di));
    if (!answer) return unexpected(answer.error());
    auto value = dlt645::decode_value(item, answer->value);
    if (!value) return unexpected(ReadError{ReadFailure::Invalid, value.error().message});
    return *value;
}

Expected<void, ReadError> Dlt645Client::control(const dlt645::Address& meter,
                                                const dlt645::ControlAuth& auth,
                                                dlt645::ControlCommand command,
                                                const dlt645::DateTime& valid_until) {
    auto frame = exchange(dlt645::encode_control(meter, auth, command, valid_until),
                          [&](const dlt645::Frame& f) { return f.address == meter; });
    if (!frame) return unexpected(frame.error());
    auto answer = dlt645::decode_control_answer(*frame, meter);
    if (!answer) return unexpected(from_answer_error(answer.error()));
    return {};
}

Expected<dlt645::Address, ReadError> Dlt645Client::read_address() {
    auto frame = exchange(dlt645::encode_read_address(), [](const dlt645::Frame& f) {
        return f.function() == static_cast<std::uint8_t>(dlt645::Function::ReadAddress);
    });
    if (!frame) return unexpected(frame.error());
    auto address = dlt645::decode_read_address_answer(*frame);
    if (!address) return unexpected(from_answer_error(address.error()));
    return *address;
}

Result Dlt645Client::broadcast_time(const dlt645::DateTime& when) {
    ex_.wait_for_quiet_line();
    auto written = ex_.link.write(dlt645::encode_broadcast_time(when));
    ex_.line_went_quiet();
    if (!written) return written;
    ++ex_.counters.requests;
    return {};
}

}  // namespace ecmgw::bus
