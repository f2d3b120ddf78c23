// libFuzzer target for the DL/T 645-2007 codec: arbitrary bytes go through scan() the
// way a bus poller feeds it, and every frame found goes through every decoder. Besides
// the sanitizers, it checks the properties the poller relies on (progress, frames that
// re-encode to the bytes they came from, values that re-encode to equal values).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "ecmgw/protocols/dlt645.hpp"

namespace dlt = ecmgw::dlt645;

#define FUZZ_CHECK(cond)                                                                       \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            std::fprintf(stderr, "%s:%d: property violated: %s\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                                      \
        }                                                                                      \
    } while (false)

namespace {

constexpr std::size_t kOverhead = 12;

// A value that decoded must encode again and decode to the same thing.
void check_value_round_trip(const dlt::DataItem& item, dlt::ByteView bytes) {
    auto value = dlt::decode_value(item, bytes);
    if (!value) {
        FUZZ_CHECK(!value.error().message.empty());
        return;
    }
    const std::string text = value->to_string();
    auto encoded = dlt::encode_value(item, *value);
    FUZZ_CHECK(encoded.has_value());
    FUZZ_CHECK(encoded->size() == item.length);
    auto again = dlt::decode_value(item, *encoded);
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(again->to_string() == text);
}

void check_bcd_round_trip(dlt::ByteView bytes, std::uint8_t decimals, bool is_signed) {
    auto number = dlt::decode_bcd_decimal(bytes, decimals, is_signed);
    if (!number) return;
    auto encoded = dlt::encode_bcd_decimal(*number, bytes.size(), decimals, is_signed);
    FUZZ_CHECK(encoded.has_value());
    auto again = dlt::decode_bcd_decimal(*encoded, decimals, is_signed);
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(again->mantissa == number->mantissa && again->scale == number->scale);
}

void exercise_read_answer(const dlt::Frame& frame, const dlt::Address& meter,
                          const dlt::DataItem& item) {
    auto answer = dlt::decode_read_answer(frame, meter, item.di);
    if (!answer) {
        FUZZ_CHECK(!answer.error().message.empty());
        return;
    }
    FUZZ_CHECK(answer->di == item.di);
    FUZZ_CHECK(answer->value.size() + 4 <= frame.data.size());
    check_value_round_trip(item, answer->value);
}

void exercise_frame(const dlt::Frame& frame) {
    for (const dlt::DataItem& item : dlt::known_data_items()) {
        exercise_read_answer(frame, frame.address, item);
        exercise_read_answer(frame, dlt::Address::wildcard(), item);
        // Matching DIs are rare in random input, so also decode the raw DATA as each format.
        check_value_round_trip(item, frame.data);
        if (frame.data.size() >= item.length) {
            check_value_round_trip(item, dlt::ByteView(frame.data).first(item.length));
        }
    }
    if (auto address = dlt::decode_read_address_answer(frame)) {
        FUZZ_CHECK(*address == frame.address);
    }
    if (!frame.data.empty()) FUZZ_CHECK(!dlt::describe_error_word(frame.data[0]).empty());
    const std::size_t n = frame.data.size() < 9 ? frame.data.size() : 9;
    check_bcd_round_trip(dlt::ByteView(frame.data).first(n), frame.control, frame.abnormal());
    (void)dlt::decode_relay_status(
        static_cast<std::uint16_t>(frame.control << 8 | frame.data.size()));
    (void)frame.address.to_string();
}

void check_scan_result(dlt::ByteView rest, const dlt::ScanResult& r) {
    switch (r.status) {
        case dlt::ScanStatus::Complete: {
            FUZZ_CHECK(r.length >= kOverhead);
            FUZZ_CHECK(r.skipped + r.length <= rest.size());
            FUZZ_CHECK(r.frame.data.size() == r.length - kOverhead);
            // The frame found is exactly the bytes it came from.
            const dlt::Bytes again = dlt::encode_frame(r.frame, 0);
            const auto original = rest.subspan(r.skipped, r.length);
            FUZZ_CHECK(std::equal(again.begin(), again.end(), original.begin(), original.end()));
            break;
        }
        case dlt::ScanStatus::Incomplete:
            FUZZ_CHECK(r.skipped < rest.size());
            FUZZ_CHECK(rest[r.skipped] == 0x68);
            // A partial frame is never longer than the largest frame.
            FUZZ_CHECK(rest.size() - r.skipped < kOverhead + dlt::kMaxDataLength);
            break;
        case dlt::ScanStatus::NoFrame:
            FUZZ_CHECK(r.skipped == rest.size());
            break;
    }
}

void exercise_address_text(const std::uint8_t* data, std::size_t size) {
    if (size < 12) return;
    const std::string_view text(reinterpret_cast<const char*>(data), 12);
    auto address = dlt::Address::parse(text);
    if (!address) return;
    auto again = dlt::Address::parse(address->to_string());
    FUZZ_CHECK(again.has_value() && *again == *address);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    exercise_address_text(data, size);
    dlt::ByteView rest(data, size);
    while (!rest.empty()) {
        const dlt::ScanResult r = dlt::scan(rest);
        check_scan_result(rest, r);
        if (r.status == dlt::ScanStatus::Complete) {
            exercise_frame(r.frame);
            rest = rest.subspan(r.skipped + r.length);
        } else if (r.status == dlt::ScanStatus::Incomplete) {
            // The input ends here, as a poller's timeout would: the partial candidate's 68
            // was noise after all, so drop it and look at what came after it.
            rest = rest.subspan(r.skipped + 1);
        } else {
            rest = rest.subspan(r.skipped);
        }
    }
    return 0;
}
