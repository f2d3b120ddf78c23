// libFuzzer target for the CJ/T 188 codec: arbitrary bytes go through scan() the way a bus
// poller feeds it, and every frame found goes through every decoder. Besides the sanitizers,
// it checks the properties the poller relies on (progress, frames that re-encode to the
// bytes they came from, decoded fields that re-encode to the bytes they came from).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "ecmgw/protocols/cjt188.hpp"

namespace cjt = ecmgw::cjt188;
namespace dlt = ecmgw::dlt645;

#define FUZZ_CHECK(cond)                                                                       \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            std::fprintf(stderr, "%s:%d: property violated: %s\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                                      \
        }                                                                                      \
    } while (false)

namespace {

constexpr std::size_t kOverhead = 13;

bool equal_bytes(const cjt::Bytes& a, cjt::ByteView b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

// A flow that decoded is exactly the 4 BCD bytes it came from.
void check_flow(const ecmgw::Decimal& flow, const cjt::Bytes& data, std::size_t at) {
    auto encoded = dlt::encode_bcd_decimal(flow, 4, 2, false);
    FUZZ_CHECK(encoded.has_value());
    FUZZ_CHECK(equal_bytes(*encoded, cjt::ByteView(data).subspan(at, 4)));
}

void check_time(const dlt::DateTime& t) {
    FUZZ_CHECK(t.year >= 2000 && t.year <= 2099);
    FUZZ_CHECK(t.month >= 1 && t.month <= 12);
    FUZZ_CHECK(t.day >= 1 && t.day <= 31);
    FUZZ_CHECK(t.hour >= 0 && t.hour <= 23);
    FUZZ_CHECK(t.minute >= 0 && t.minute <= 59);
    FUZZ_CHECK(t.second >= 0 && t.second <= 59);
    FUZZ_CHECK(t.weekday >= 0 && t.weekday <= 6);
}

void check_error(const cjt::AnswerError& error, const cjt::Frame& frame) {
    FUZZ_CHECK(!error.message.empty());
    FUZZ_CHECK(!cjt::describe_answer_error_kind(error.kind).empty());
    if (error.kind == cjt::AnswerErrorKind::Abnormal) FUZZ_CHECK(frame.abnormal());
}

void exercise_read_data(const cjt::Frame& frame, const cjt::Address& meter, std::uint8_t ser) {
    auto reading = cjt::decode_read_data_answer(frame, meter, ser);
    if (!reading) {
        check_error(reading.error(), frame);
        return;
    }
    FUZZ_CHECK(frame.from_meter() && !frame.abnormal() && frame.data.size() >= 22);
    FUZZ_CHECK(frame.data[2] == ser);
    check_flow(reading->current, frame.data, 3);
    check_flow(reading->settlement, frame.data, 8);
    FUZZ_CHECK(reading->current_unit == frame.data[7]);
    FUZZ_CHECK(reading->status.raw == (frame.data[20] | frame.data[21] << 8));
    if (reading->meter_time) check_time(*reading->meter_time);
    auto m3 = cjt::to_cubic_metres(reading->current, reading->current_unit);
    FUZZ_CHECK(m3.has_value() == (reading->current_unit == cjt::kUnitCubicMetre ||
                                  reading->current_unit == cjt::kUnitLitre));
    if (m3) FUZZ_CHECK(m3->mantissa == reading->current.mantissa);
    FUZZ_CHECK(!cjt::unit_name(reading->settlement_unit).empty());
}

void exercise_valve(const cjt::Frame& frame, const cjt::Address& meter, std::uint8_t ser) {
    auto status = cjt::decode_valve_answer(frame, meter, ser);
    if (!status) {
        check_error(status.error(), frame);
        return;
    }
    FUZZ_CHECK(frame.data.size() >= 5 && frame.data[2] == ser);
    FUZZ_CHECK(status->raw == (frame.data[3] | frame.data[4] << 8));
    FUZZ_CHECK(*status == cjt::decode_status(status->raw));
    FUZZ_CHECK(!cjt::valve_name(status->valve).empty());
}

void exercise_frame(const cjt::Frame& frame) {
    const std::uint8_t ser = frame.data.size() > 2 ? frame.data[2] : 0;
    for (const cjt::Address& meter : {frame.address, cjt::Address::wildcard()}) {
        exercise_read_data(frame, meter, ser);
        exercise_read_data(frame, meter, static_cast<std::uint8_t>(ser + 1));
        exercise_valve(frame, meter, ser);
    }
    auto address = cjt::decode_read_address_answer(frame);
    if (address) {
        FUZZ_CHECK(*address == frame.address && !address->is_wildcard());
    } else {
        check_error(address.error(), frame);
    }
}

void check_scan_result(cjt::ByteView rest, const cjt::ScanResult& r) {
    switch (r.status) {
        case cjt::ScanStatus::Complete: {
            FUZZ_CHECK(r.length >= kOverhead);
            FUZZ_CHECK(r.skipped + r.length <= rest.size());
            FUZZ_CHECK(r.frame.data.size() == r.length - kOverhead);
            FUZZ_CHECK(r.frame.data.size() <= cjt::kMaxDataLength);
            // The frame found is exactly the bytes it came from.
            FUZZ_CHECK(
                equal_bytes(cjt::encode_frame(r.frame, 0), rest.subspan(r.skipped, r.length)));
            break;
        }
        case cjt::ScanStatus::Incomplete:
            FUZZ_CHECK(r.skipped < rest.size());
            FUZZ_CHECK(rest[r.skipped] == 0x68);
            // A partial frame is never longer than the largest frame.
            FUZZ_CHECK(rest.size() - r.skipped < kOverhead + cjt::kMaxDataLength);
            break;
        case cjt::ScanStatus::NoFrame:
            FUZZ_CHECK(r.skipped == rest.size());
            break;
    }
}

// Requests built from input bytes scan back to the fields they were built from.
void exercise_requests(const std::uint8_t* data, std::size_t size) {
    if (size < 10) return;
    cjt::Address meter;
    std::copy_n(data, meter.wire.size(), meter.wire.begin());
    const auto type = static_cast<cjt::MeterType>(data[7]);
    const std::uint8_t ser = data[8];
    const std::size_t wakeup = data[9] % 5;
    for (const cjt::Bytes& request :
         {cjt::encode_read_data(type, meter, ser, wakeup), cjt::encode_read_address(ser, wakeup),
          cjt::encode_valve(type, meter, ser, (data[9] & 0x80) != 0, wakeup)}) {
        auto r = cjt::scan(request);
        FUZZ_CHECK(r.status == cjt::ScanStatus::Complete);
        FUZZ_CHECK(r.skipped == wakeup && r.skipped + r.length == request.size());
        FUZZ_CHECK(!r.frame.from_meter() && r.frame.data.size() >= 3 && r.frame.data[2] == ser);
        FUZZ_CHECK(r.frame.address == meter || r.frame.address.is_wildcard());
    }
}

void exercise_address_text(const std::uint8_t* data, std::size_t size) {
    if (size < 14) return;
    const std::string_view text(reinterpret_cast<const char*>(data), 14);
    auto address = cjt::Address::parse(text);
    if (!address) return;
    auto again = cjt::Address::parse(address->to_string());
    FUZZ_CHECK(again.has_value() && *again == *address);
}

// Random bytes rarely form a frame with a good checksum, so the input's tail also goes in as
// the DATA of a well-formed answer: the decoders then see every DATA, not only what scan finds.
void exercise_framed(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return;
    struct Answer {
        std::uint8_t control;
        cjt::DataId di;
    };
    static constexpr Answer kAnswers[] = {
        {0x81, cjt::kDiReadData}, {0x84, cjt::kDiValve}, {0x83, cjt::kDiReadAddress},
        {0xC1, cjt::kDiReadData}, {0xC4, cjt::kDiValve}, {0xC3, cjt::kDiReadAddress},
        {0x01, cjt::kDiReadData}, {0x95, 0x0000},
    };
    const Answer& answer = kAnswers[data[0] & 0x07];
    cjt::Frame frame{data[1], cjt::Address{{0x34, 0x12, 0x90, 0x78, 0x56, 0x34, 0x12}},
                     answer.control, cjt::Bytes(data + 2, data + size)};
    // Half of the inputs get the DI the answer should have, so decoding goes past the DI check.
    if ((data[0] & 0x08) != 0 && frame.data.size() >= 2) {
        frame.data[0] = static_cast<std::uint8_t>(answer.di);
        frame.data[1] = static_cast<std::uint8_t>(answer.di >> 8);
    }
    if (frame.data.size() > cjt::kMaxDataLength) frame.data.resize(cjt::kMaxDataLength);
    const cjt::Bytes wire = cjt::encode_frame(frame, data[0] >> 6);
    const cjt::ScanResult r = cjt::scan(wire);
    check_scan_result(wire, r);
    FUZZ_CHECK(r.status == cjt::ScanStatus::Complete && r.frame == frame);
    exercise_frame(r.frame);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    exercise_requests(data, size);
    exercise_address_text(data, size);
    exercise_framed(data, size);
    cjt::ByteView rest(data, size);
    while (!rest.empty()) {
        const cjt::ScanResult r = cjt::scan(rest);
        check_scan_result(rest, r);
        if (r.status == cjt::ScanStatus::Complete) {
            exercise_frame(r.frame);
            rest = rest.subspan(r.skipped + r.length);
        } else if (r.status == cjt::ScanStatus::Incomplete) {
            // The input ends here, as a poller's timeout would: the partial candidate's 68
            // was noise after all, so drop it and look at what came after it.
            rest = rest.subspan(r.skipped + 1);
        } else {
            rest = rest.subspan(r.skipped);
        }
    }
    return 0;
}
