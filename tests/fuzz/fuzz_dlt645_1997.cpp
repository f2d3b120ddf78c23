// libFuzzer target for the DL/T 645-1997 codec and the DL/T 645-2007 additions that share its
// frame (control answers, block reads): arbitrary bytes go through dlt645::scan() the way a
// bus poller feeds it, and every frame found goes through every decoder. Besides the
// sanitizers, it checks the properties the poller relies on (progress, frames that re-encode
// to the bytes they came from, values that re-encode to equal values).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ecmgw/protocols/dlt645.hpp"
#include "ecmgw/protocols/dlt645_1997.hpp"

namespace dlt = ecmgw::dlt645;
namespace v97 = ecmgw::dlt645_1997;

#define FUZZ_CHECK(cond)                                                                       \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            std::fprintf(stderr, "%s:%d: property violated: %s\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                                      \
        }                                                                                      \
    } while (false)

namespace {

constexpr std::size_t kOverhead = 12;

// A value that decoded must encode again to the same bytes: every format is exact.
void check_value_round_trip(const dlt::DataItem& item, dlt::ByteView bytes) {
    auto value = dlt::decode_value(item, bytes);
    if (!value) {
        FUZZ_CHECK(!value.error().message.empty());
        return;
    }
    auto encoded = dlt::encode_value(item, *value);
    FUZZ_CHECK(encoded.has_value());
    FUZZ_CHECK(std::equal(encoded->begin(), encoded->end(), bytes.begin(), bytes.end()) ||
               // a signed zero (80 00) comes back as 00 00: same value, other bytes
               (item.is_signed && value->number.mantissa == 0));
    auto again = dlt::decode_value(item, *encoded);
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(again->to_string() == value->to_string());
}

// Block values come back member by member, each exactly its bytes.
void check_block_values(const dlt::BlockValues& values, std::size_t members, dlt::ByteView value) {
    FUZZ_CHECK(values.size() == members);
    std::size_t at = 0;
    for (const auto& [item, v] : values) {
        FUZZ_CHECK(item != nullptr);
        FUZZ_CHECK(at + item->length <= value.size());
        check_value_round_trip(*item, value.subspan(at, item->length));
        at += item->length;
    }
}

void exercise_1997_read(const dlt::Frame& frame, const dlt::Address& meter,
                        const dlt::DataItem& item) {
    const auto di = static_cast<v97::DataId>(item.di);
    auto answer = v97::decode_read_answer(frame, meter, di);
    if (!answer) {
        FUZZ_CHECK(!answer.error().message.empty());
        if (answer.error().kind == dlt::AnswerErrorKind::Abnormal) {
            FUZZ_CHECK(frame.abnormal() && answer.error().error_word == frame.data[0]);
        }
        return;
    }
    FUZZ_CHECK(answer->di == di);
    FUZZ_CHECK(!frame.abnormal() && frame.from_meter());
    FUZZ_CHECK(answer->value.size() + 2 == frame.data.size());
    FUZZ_CHECK(!answer->seq.has_value());
    if (!answer->more_follows) FUZZ_CHECK(answer->value.size() == item.length);
    check_value_round_trip(item, answer->value);
}

void exercise_1997_blocks(const dlt::Frame& frame) {
    for (const v97::DataBlock& block : v97::known_blocks()) {
        FUZZ_CHECK(v97::find_block(block.di) == &block);
        auto answer = v97::decode_read_answer(frame, frame.address, block.di);
        const dlt::Bytes& value = answer ? answer->value : frame.data;
        auto values = v97::decode_block(block, value);
        if (values) check_block_values(*values, block.members.size(), value);
    }
}

void exercise_2007_additions(const dlt::Frame& frame) {
    auto control = dlt::decode_control_answer(frame, frame.address);
    if (control) {
        FUZZ_CHECK(frame.from_meter() && !frame.abnormal());
        FUZZ_CHECK(frame.function() == static_cast<std::uint8_t>(dlt::Function::Control));
    } else {
        FUZZ_CHECK(!control.error().message.empty());
        FUZZ_CHECK(!dlt::describe_answer_error_kind(control.error().kind).empty());
    }
    for (const dlt::DataBlock& block : dlt::known_blocks()) {
        auto values = dlt::decode_block(block, frame.data);
        if (values) check_block_values(*values, block.members.size(), frame.data);
        auto answer = dlt::decode_read_answer(frame, dlt::Address::wildcard(), block.di);
        if (answer && !answer->more_follows && !answer->seq) {
            if (auto v = dlt::decode_block(block, answer->value)) {
                check_block_values(*v, block.members.size(), answer->value);
            }
        }
    }
}

void exercise_frame(const dlt::Frame& frame) {
    for (const dlt::DataItem& item : v97::known_data_items()) {
        exercise_1997_read(frame, frame.address, item);
        exercise_1997_read(frame, dlt::Address::wildcard(), item);
        // Matching DIs are rare in random input, so also decode the raw DATA as each format.
        if (frame.data.size() >= item.length) {
            check_value_round_trip(item, dlt::ByteView(frame.data).first(item.length));
        }
    }
    exercise_1997_blocks(frame);
    exercise_2007_additions(frame);
    if (!frame.data.empty()) FUZZ_CHECK(!v97::describe_error_word(frame.data[0]).empty());
}

void check_scan_result(dlt::ByteView rest, const dlt::ScanResult& r) {
    switch (r.status) {
        case dlt::ScanStatus::Complete: {
            FUZZ_CHECK(r.length >= kOverhead);
            FUZZ_CHECK(r.skipped + r.length <= rest.size());
            FUZZ_CHECK(r.frame.data.size() == r.length - kOverhead);
            const dlt::Bytes again = dlt::encode_frame(r.frame, 0);
            const auto original = rest.subspan(r.skipped, r.length);
            FUZZ_CHECK(std::equal(again.begin(), again.end(), original.begin(), original.end()));
            break;
        }
        case dlt::ScanStatus::Incomplete:
            FUZZ_CHECK(r.skipped < rest.size());
            FUZZ_CHECK(rest[r.skipped] == 0x68);
            FUZZ_CHECK(rest.size() - r.skipped < kOverhead + dlt::kMaxDataLength);
            break;
        case dlt::ScanStatus::NoFrame:
            FUZZ_CHECK(r.skipped == rest.size());
            break;
    }
}

// Requests built from input bytes scan back to the fields they were built from.
void exercise_requests(const std::uint8_t* data, std::size_t size) {
    if (size < 16) return;
    dlt::Address meter;
    std::copy_n(data, meter.wire.size(), meter.wire.begin());
    const auto di = static_cast<v97::DataId>(data[6] | data[7] << 8);
    auto read = dlt::scan(v97::encode_read(meter, di, data[8] % 5));
    FUZZ_CHECK(read.status == dlt::ScanStatus::Complete);
    FUZZ_CHECK(read.frame.address == meter && read.frame.control == 0x01);
    FUZZ_CHECK(read.frame.data.size() == 2 && (read.frame.data[0] | read.frame.data[1] << 8) == di);

    dlt::ControlAuth auth;
    auth.privilege = data[9];
    std::copy_n(data + 10, 3, auth.password.begin());
    std::copy_n(data + 12, 4, auth.operator_code.begin());
    const auto command = static_cast<dlt::ControlCommand>(data[15]);
    const dlt::DateTime until{2000 + data[1] % 100,
                              data[2] % 13,
                              data[3] % 32,
                              data[4] % 24,
                              data[5] % 60,
                              data[0] % 60,
                              0};
    auto control = dlt::scan(dlt::encode_control(meter, auth, command, until));
    FUZZ_CHECK(control.status == dlt::ScanStatus::Complete);
    FUZZ_CHECK(control.frame.data.size() == 16);
    FUZZ_CHECK(control.frame.data[0] == auth.privilege);
    FUZZ_CHECK(control.frame.data[8] == data[15] && control.frame.data[9] == 0);
    FUZZ_CHECK(!dlt::control_command_name(command).empty());
}

// Digits that parse print back the same way.
void exercise_auth_text(const std::uint8_t* data, std::size_t size) {
    if (size < 14) return;
    const std::string_view password(reinterpret_cast<const char*>(data), 6);
    const std::string_view op(reinterpret_cast<const char*>(data) + 6, 8);
    auto auth = dlt::ControlAuth::parse(0x02, password, op);
    if (!auth) {
        // A wrong password is never repeated in the message.
        const std::string& message = auth.error().message;
        FUZZ_CHECK(message == "password is not 6 decimal digits" ||
                   message.starts_with("operator code"));
        return;
    }
    for (std::size_t i = 0; i < 3; ++i) {
        const std::uint8_t b = auth->password[i];
        FUZZ_CHECK(password[4 - 2 * i] == '0' + (b >> 4) &&
                   password[5 - 2 * i] == '0' + (b & 0x0F));
    }
}

// Random bytes rarely form a frame with a good checksum, so the input's tail also goes in as
// the DATA of a well-formed answer: the decoders then see every DATA, not only what scan finds.
void exercise_framed(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return;
    static constexpr std::uint8_t kControls[] = {0x81, 0xA1, 0x82, 0xC1, 0x9C, 0xDC, 0x91, 0x01};
    dlt::Frame frame{dlt::Address{{0x01, 0x00, 0x00, 0x00, 0x00, 0x00}}, kControls[data[0] & 0x07],
                     dlt::Bytes(data + 2, data + size)};
    // Half of the inputs get a DI this codec knows (an item or a block), chosen by data[1], so
    // decoding goes past the DI check.
    const auto items = v97::known_data_items();
    const auto blocks = v97::known_blocks();
    if ((data[0] & 0x08) != 0 && frame.data.size() >= 2) {
        const std::size_t pick = data[1] % (items.size() + blocks.size());
        const auto di = pick < items.size() ? static_cast<v97::DataId>(items[pick].di)
                                            : blocks[pick - items.size()].di;
        frame.data[0] = static_cast<std::uint8_t>(di);
        frame.data[1] = static_cast<std::uint8_t>(di >> 8);
    }
    if (frame.data.size() > dlt::kMaxDataLength) frame.data.resize(dlt::kMaxDataLength);
    const dlt::Bytes wire = dlt::encode_frame(frame, data[0] >> 6);
    const dlt::ScanResult r = dlt::scan(wire);
    check_scan_result(wire, r);
    FUZZ_CHECK(r.status == dlt::ScanStatus::Complete && r.frame == frame);
    exercise_frame(r.frame);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    exercise_requests(data, size);
    exercise_auth_text(data, size);
    exercise_framed(data, size);
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
