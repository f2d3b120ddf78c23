// DL/T 645-2007 codec: the worked frames of shared/protocols.md in both directions,
// the stream scanner against noise and fragments, answer checks and value formats.
#include <doctest/doctest.h>

#include "hex_bytes.hpp"

#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "ecmgw/protocols/dlt645.hpp"

using namespace ecmgw::dlt645;
using ecmgw::Decimal;

using ecmgw::test::concat;
using ecmgw::test::hex;

namespace {

Address address(std::string_view digits) {
    auto a = Address::parse(digits);
    REQUIRE(a.has_value());
    return *a;
}

const Address kMeter1 = Address{{0x01, 0x00, 0x00, 0x00, 0x00, 0x00}};
const Address kMeter2 = Address{{0x78, 0x56, 0x34, 0x12, 0x20, 0x20}};

// The worked frames of shared/protocols.md.
const Bytes kReadEnergy = hex("FE FE FE FE 68 01 00 00 00 00 00 68 11 04 33 33 33 33 B2 16");
const Bytes kAnswerEnergy = hex("68 01 00 00 00 00 00 68 91 08 33 33 33 33 78 56 34 33 6B 16");
const Bytes kReadVoltage = hex("68 78 56 34 12 20 20 68 11 04 33 34 34 35 09 16");
const Bytes kAnswerVoltage = hex("68 78 56 34 12 20 20 68 91 06 33 34 34 35 36 55 16 16");
const Bytes kReadAddress = hex("68 AA AA AA AA AA AA 68 13 00 DF 16");
const Bytes kAnswerAddress = hex("68 78 56 34 12 20 20 68 93 06 AB 89 67 45 53 53 43 16");
const Bytes kTripRelay =
    hex("68 01 00 00 00 00 00 68 1C 10 35 33 33 33 34 33 33 33 4D 33 33 33 45 64 45 59 C5 16");
const Bytes kControlOk = hex("68 01 00 00 00 00 00 68 9C 00 6D 16");
const Bytes kControlRefused = hex("68 01 00 00 00 00 00 68 DC 01 37 E5 16");
const Bytes kReadNoData = hex("68 01 00 00 00 00 00 68 D1 01 35 D8 16");
const Bytes kBroadcastTime = hex("68 99 99 99 99 99 99 68 08 06 89 67 45 57 44 59 9D 16");

constexpr DataId kEnergy = 0x00000000;
constexpr DataId kVoltageA = 0x02010100;

Frame scan_one(const Bytes& bytes) {
    auto r = scan(bytes);
    REQUIRE(r.status == ScanStatus::Complete);
    return r.frame;
}

const DataItem& item(std::string_view quantity) {
    const DataItem* d = find_data_item(quantity);
    REQUIRE(d != nullptr);
    return *d;
}

// What a bus poller does: append what arrives, take out frames, drop what scan() says.
std::vector<Frame> feed_in_chunks(const Bytes& stream, std::size_t chunk,
                                  std::size_t* checksum_errors = nullptr) {
    std::vector<Frame> frames;
    Bytes buffer;
    for (std::size_t at = 0; at < stream.size(); at += chunk) {
        const auto end =
            stream.begin() + static_cast<std::ptrdiff_t>(std::min(at + chunk, stream.size()));
        buffer.insert(buffer.end(), stream.begin() + static_cast<std::ptrdiff_t>(at), end);
        for (;;) {
            auto r = scan(buffer);
            if (checksum_errors != nullptr) *checksum_errors += r.checksum_errors;
            const std::size_t drop =
                r.status == ScanStatus::Complete ? r.skipped + r.length : r.skipped;
            if (r.status == ScanStatus::Complete) frames.push_back(r.frame);
            buffer.erase(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(drop));
            if (r.status != ScanStatus::Complete) break;
        }
    }
    return frames;
}

}  // namespace

// --- addresses -------------------------------------------------------------------

TEST_CASE("Address::parse puts the lowest two digits first on the wire") {
    const Address a = address("202012345678");
    CHECK(a == kMeter2);
    CHECK(a.to_string() == "202012345678");
    CHECK(address("000000000001") == kMeter1);
    CHECK(address("000000000001").to_string() == "000000000001");
}

TEST_CASE("Address::parse accepts the wildcard in any case") {
    CHECK(address("AAAAAAAAAAAA").is_wildcard());
    CHECK(address("aaaaAAAAaaaa") == Address::wildcard());
    CHECK(Address::wildcard().to_string() == "AAAAAAAAAAAA");
    CHECK_FALSE(kMeter1.is_wildcard());
}

TEST_CASE("Address::parse accepts the broadcast address") {
    CHECK(address("999999999999").is_broadcast());
    CHECK(Address::broadcast().to_string() == "999999999999");
    CHECK_FALSE(kMeter2.is_broadcast());
}

TEST_CASE("Address::parse rejects a wrong number of digits") {
    for (std::string_view bad : {"", "12345678901", "1234567890123", "AAAAAAAAAAA"}) {
        auto a = Address::parse(bad);
        REQUIRE_FALSE(a.has_value());
        CHECK(a.error().message.find("expected 12 decimal digits") != std::string::npos);
    }
}

TEST_CASE("Address::parse names the character that is not a digit") {
    auto a = Address::parse("2020123x5678");
    REQUIRE_FALSE(a.has_value());
    CHECK(a.error().message.find("'x' at position 8") != std::string::npos);
    CHECK_FALSE(Address::parse("AAAAAAAAAAA1").has_value());
    CHECK_FALSE(Address::parse("20201234567 ").has_value());
    CHECK_FALSE(Address::parse("-20201234567").has_value());
}

// --- encoding the worked requests ------------------------------------------------

TEST_CASE("encode_read builds the worked energy read with four wake-up bytes") {
    CHECK(encode_read(address("000000000001"), kEnergy) == kReadEnergy);
}

TEST_CASE("encode_read without wake-up builds the worked voltage read") {
    CHECK(encode_read(kMeter2, kVoltageA, 0) == kReadVoltage);
}

TEST_CASE("encode_read_address builds the worked wildcard read") {
    CHECK(encode_read_address(0) == kReadAddress);
    CHECK(encode_read_address() == concat({hex("FE FE FE FE"), kReadAddress}));
}

TEST_CASE("encode_broadcast_time builds the worked broadcast with ss mm hh DD MM YY") {
    const DateTime t{2026, 11, 24, 12, 34, 56, 2};
    CHECK(encode_broadcast_time(t, 0) == kBroadcastTime);
    CHECK(encode_broadcast_time(t, 2) == concat({hex("FE FE"), kBroadcastTime}));
}

TEST_CASE("encode_read_follow_up sends the DI then the SEQ byte") {
    CHECK(encode_read_follow_up(kMeter1, 0x00010000, 0x01, 0) ==
          hex("68 01 00 00 00 00 00 68 12 05 33 33 34 33 34 E9 16"));
    const Frame f = scan_one(encode_read_follow_up(kMeter1, 0x00010000, 0x07));
    CHECK(f.function() == static_cast<std::uint8_t>(Function::ReadFollowUp));
    CHECK(f.data == Bytes{0x00, 0x00, 0x01, 0x00, 0x07});
}

TEST_CASE("encode_frame builds the worked relay trip command") {
    const Frame trip{kMeter1, static_cast<std::uint8_t>(Function::Control),
                     hex("02 000000 01000000 1A 00 00 00 12 31 12 26")};
    CHECK(encode_frame(trip, 0) == kTripRelay);
}

TEST_CASE("every worked frame scans and encodes back to the same bytes") {
    for (const Bytes* bytes : {&kReadEnergy, &kAnswerEnergy, &kReadVoltage, &kAnswerVoltage,
                               &kReadAddress, &kAnswerAddress, &kTripRelay, &kControlOk,
                               &kControlRefused, &kReadNoData, &kBroadcastTime}) {
        auto r = scan(*bytes);
        REQUIRE(r.status == ScanStatus::Complete);
        CHECK(r.skipped + r.length == bytes->size());
        CHECK(r.checksum_errors == 0);
        CHECK(encode_frame(r.frame, r.skipped) == *bytes);
    }
}

// --- decoding the worked answers -------------------------------------------------

TEST_CASE("worked energy answer decodes to 000123.45 kWh") {
    auto r = scan(kAnswerEnergy);
    REQUIRE(r.status == ScanStatus::Complete);
    CHECK(r.skipped == 0);
    CHECK(r.length == kAnswerEnergy.size());
    CHECK(r.frame.address == kMeter1);
    CHECK(r.frame.control == 0x91);
    auto answer = decode_read_answer(r.frame, kMeter1, kEnergy);
    REQUIRE(answer.has_value());
    CHECK(answer->di == kEnergy);
    CHECK(answer->value == Bytes{0x45, 0x23, 0x01, 0x00});
    CHECK_FALSE(answer->more_follows);
    CHECK_FALSE(answer->seq.has_value());
    auto value = decode_value(item("energy_kwh"), answer->value);
    REQUIRE(value.has_value());
    CHECK(value->number.mantissa == 12345);
    CHECK(value->number.scale == 2);
    CHECK(value->to_string() == "123.45");
}

TEST_CASE("worked voltage answer whose checksum is 16 decodes to 220.3 V") {
    REQUIRE(kAnswerVoltage[kAnswerVoltage.size() - 2] == 0x16);
    auto r = scan(kAnswerVoltage);
    REQUIRE(r.status == ScanStatus::Complete);
    CHECK(r.length == 18);  // not cut at the CS that looks like an end byte
    auto answer = decode_read_answer(r.frame, kMeter2, kVoltageA);
    REQUIRE(answer.has_value());
    auto value = decode_value(item("voltage_a_v"), answer->value);
    REQUIRE(value.has_value());
    CHECK(value->number == Decimal{2203, 1});
    CHECK(value->to_string() == "220.3");
}

TEST_CASE("worked read-address answer decodes to 202012345678") {
    auto a = decode_read_address_answer(scan_one(kAnswerAddress));
    REQUIRE(a.has_value());
    CHECK(*a == kMeter2);
    CHECK(a->to_string() == "202012345678");
}

TEST_CASE("worked control ok answer is a normal control answer without data") {
    const Frame f = scan_one(kControlOk);
    CHECK(f.control == 0x9C);
    CHECK(f.from_meter());
    CHECK_FALSE(f.abnormal());
    CHECK(f.function() == static_cast<std::uint8_t>(Function::Control));
    CHECK(f.data.empty());
}

TEST_CASE("worked control refusal carries error byte 04: unauthorised") {
    const Frame f = scan_one(kControlRefused);
    CHECK(f.control == 0xDC);
    CHECK(f.abnormal());
    REQUIRE(f.data.size() == 1);
    CHECK(f.data[0] == kErrUnauthorised);
    CHECK(describe_error_word(f.data[0]) == "password wrong or unauthorised");
}

TEST_CASE("worked D1 answer gives an Abnormal error with error word 02") {
    auto answer = decode_read_answer(scan_one(kReadNoData), kMeter1, kEnergy);
    REQUIRE_FALSE(answer.has_value());
    CHECK(answer.error().kind == AnswerErrorKind::Abnormal);
    CHECK(answer.error().error_word == kErrNoData);
    CHECK(answer.error().message == "meter reports: no requested data");
}

TEST_CASE("worked broadcast time frame scans back to its fields") {
    const Frame f = scan_one(kBroadcastTime);
    CHECK(f.address.is_broadcast());
    CHECK(f.control == 0x08);
    CHECK(f.data == hex("56 34 12 24 11 26"));
}

// --- scanning a byte stream ------------------------------------------------------

TEST_CASE("scan skips wake-up bytes before a frame") {
    auto r = scan(kReadEnergy);
    REQUIRE(r.status == ScanStatus::Complete);
    CHECK(r.skipped == 4);
    CHECK(r.length == 16);
    CHECK(r.frame.data == Bytes{0, 0, 0, 0});
}

TEST_CASE("scan of an empty buffer is NoFrame") {
    auto r = scan(Bytes{});
    CHECK(r.status == ScanStatus::NoFrame);
    CHECK(r.skipped == 0);
}

TEST_CASE("scan of noise without any 68 drops all of it") {
    const Bytes noise = hex("FE FE 00 16 16 FF 12 34");
    auto r = scan(noise);
    CHECK(r.status == ScanStatus::NoFrame);
    CHECK(r.skipped == noise.size());
    CHECK(r.checksum_errors == 0);
}

TEST_CASE("scan fed one byte at a time is Incomplete until the last byte") {
    for (std::size_t n = 1; n < kAnswerVoltage.size(); ++n) {
        auto r = scan(ByteView(kAnswerVoltage).first(n));
        CHECK(r.status == ScanStatus::Incomplete);
        CHECK(r.skipped == 0);
    }
    auto r = scan(kAnswerVoltage);
    CHECK(r.status == ScanStatus::Complete);
}

TEST_CASE("a poller fed one byte at a time gets the frame exactly once") {
    const auto frames = feed_in_chunks(concat({hex("FE FE FE"), kAnswerEnergy}), 1);
    REQUIRE(frames.size() == 1);
    CHECK(frames[0] == scan_one(kAnswerEnergy));
}

TEST_CASE("a lone 68 or a partial header at the end is Incomplete and not NoFrame") {
    auto lone = scan(hex("FE FE 00 68"));
    CHECK(lone.status == ScanStatus::Incomplete);
    CHECK(lone.skipped == 3);
    auto header = scan(hex("12 68 01 00 00"));
    CHECK(header.status == ScanStatus::Incomplete);
    CHECK(header.skipped == 1);
}

TEST_CASE("a truncated frame is Incomplete at its first 68") {
    const Bytes cut(kReadEnergy.begin(), kReadEnergy.end() - 3);
    auto r = scan(cut);
    CHECK(r.status == ScanStatus::Incomplete);
    CHECK(r.skipped == 4);
}

TEST_CASE("two frames with wake-up bytes and noise between are both found") {
    const Bytes stream =
        concat({hex("FE FE"), kAnswerEnergy, hex("00 FF 13 FE FE FE FE"), kAnswerVoltage});
    auto first = scan(stream);
    REQUIRE(first.status == ScanStatus::Complete);
    CHECK(first.skipped == 2);
    CHECK(first.frame.address == kMeter1);
    const auto rest = ByteView(stream).subspan(first.skipped + first.length);
    auto second = scan(rest);
    REQUIRE(second.status == ScanStatus::Complete);
    CHECK(second.skipped == 7);
    CHECK(second.frame.address == kMeter2);
    CHECK(second.skipped + second.length == rest.size());

    for (std::size_t chunk : {1U, 2U, 3U, 7U, 64U}) {
        CAPTURE(chunk);
        CHECK(feed_in_chunks(stream, chunk).size() == 2);
    }
}

TEST_CASE("a frame with a bad checksum alone is dropped and counted") {
    Bytes bad = kAnswerEnergy;
    bad[bad.size() - 2] ^= 0x01;
    auto r = scan(bad);
    CHECK(r.status == ScanStatus::NoFrame);
    CHECK(r.skipped == bad.size());
    CHECK(r.checksum_errors == 1);
}

TEST_CASE("a bad checksum is counted and the following good frame is found") {
    Bytes bad = kAnswerEnergy;
    bad[14] ^= 0x10;  // a data byte flipped on the line
    const Bytes stream = concat({bad, hex("FE FE"), kAnswerVoltage});
    auto r = scan(stream);
    REQUIRE(r.status == ScanStatus::Complete);
    CHECK(r.checksum_errors == 1);
    CHECK(r.skipped == bad.size() + 2);
    CHECK(r.frame.address == kMeter2);
}

TEST_CASE("a wrong end byte counts as a checksum error") {
    Bytes bad = kControlOk;
    bad[bad.size() - 1] = 0x17;
    auto r = scan(concat({bad, kControlOk}));
    REQUIRE(r.status == ScanStatus::Complete);
    CHECK(r.checksum_errors == 1);
    CHECK(r.skipped == bad.size());
}

TEST_CASE("a fake header in noise claiming a long frame does not hide a real frame") {
    // 68 ... 68 C L=0x50 promises 92 bytes; a real answer arrives inside that span.
    const Bytes fake = hex("68 11 22 33 44 55 66 68 91 50");
    auto r = scan(concat({fake, kAnswerEnergy}));
    REQUIRE(r.status == ScanStatus::Complete);
    CHECK(r.skipped == fake.size());
    CHECK(r.frame.address == kMeter1);
}

TEST_CASE("a fake header whose checksum fails is skipped byte by byte") {
    // The fake's claimed 4 data bytes and CS overlap the start of the real frame.
    const Bytes fake = hex("68 11 22 33 44 55 66 68 91 04 00");
    const Bytes stream = concat({fake, kAnswerVoltage});
    auto r = scan(stream);
    REQUIRE(r.status == ScanStatus::Complete);
    CHECK(r.checksum_errors == 1);
    CHECK(r.skipped == fake.size());
    CHECK(r.frame.address == kMeter2);
}

TEST_CASE("a 68 that is not followed by a second 68 is noise") {
    auto r = scan(concat({hex("68 01 02 03 04 05 06 07 08"), kControlOk}));
    REQUIRE(r.status == ScanStatus::Complete);
    CHECK(r.skipped == 9);
    CHECK(r.checksum_errors == 0);
}

TEST_CASE("data bytes that become 68 and 16 on the wire do not split the frame") {
    // 0x35 + 0x33 = 0x68 and 0xE3 + 0x33 = 0x16.
    const Frame sent{kMeter2, 0x91, hex("00 01 01 02 35 E3 35 E3 16 68")};
    const Bytes wire = encode_frame(sent, 0);
    REQUIRE(wire.size() == 22);
    CHECK(wire[14] == 0x68);
    CHECK(wire[15] == 0x16);
    auto r = scan(wire);
    REQUIRE(r.status == ScanStatus::Complete);
    CHECK(r.length == wire.size());
    CHECK(r.frame == sent);
    for (std::size_t n = 1; n < wire.size(); ++n) {
        CAPTURE(n);
        CHECK(scan(ByteView(wire).first(n)).status == ScanStatus::Incomplete);
    }
}

TEST_CASE("L above 200 is not a frame but L of 200 is") {
    auto frame_with_length = [](std::size_t length) {
        Bytes b = hex("68 01 00 00 00 00 00 68 91");
        b.push_back(static_cast<std::uint8_t>(length));
        b.insert(b.end(), length, 0x33);
        unsigned sum = 0;
        for (auto x : b) sum += x;
        b.push_back(static_cast<std::uint8_t>(sum));
        b.push_back(0x16);
        return b;
    };
    const Bytes too_long = frame_with_length(201);
    auto r = scan(too_long);
    CHECK(r.status == ScanStatus::NoFrame);
    CHECK(r.skipped == too_long.size());
    // A header with L > 200 is not waited for (only its second 68 could still start a frame).
    auto header = scan(ByteView(too_long).first(10));
    CHECK(header.status == ScanStatus::Incomplete);
    CHECK(header.skipped == 7);

    auto ok = scan(frame_with_length(200));
    REQUIRE(ok.status == ScanStatus::Complete);
    CHECK(ok.frame.data.size() == 200);
}

TEST_CASE("Incomplete counts only the checksum errors before the partial frame") {
    Bytes bad = kControlOk;
    bad[bad.size() - 2] ^= 0xFF;
    const Bytes partial(kControlOk.begin(), kControlOk.begin() + 5);
    auto r = scan(concat({bad, partial}));
    CHECK(r.status == ScanStatus::Incomplete);
    CHECK(r.skipped == bad.size());
    CHECK(r.checksum_errors == 1);

    std::size_t errors = 0;
    const auto frames = feed_in_chunks(concat({bad, kControlOk, bad}), 1, &errors);
    CHECK(frames.size() == 1);
    CHECK(errors == 2);  // each bad frame counted once, however the bytes arrived
}

// --- checking answers ------------------------------------------------------------

TEST_CASE("an answer from another meter is WrongAddress") {
    auto answer = decode_read_answer(scan_one(kAnswerVoltage), kMeter1, kVoltageA);
    REQUIRE_FALSE(answer.has_value());
    CHECK(answer.error().kind == AnswerErrorKind::WrongAddress);
    CHECK(answer.error().message == "answer from meter 202012345678, asked meter 000000000001");
}

TEST_CASE("a read of the wildcard address accepts any meter's answer") {
    auto answer = decode_read_answer(scan_one(kAnswerVoltage), Address::wildcard(), kVoltageA);
    CHECK(answer.has_value());
}

TEST_CASE("an answer for another DI is WrongDataId") {
    auto answer = decode_read_answer(scan_one(kAnswerEnergy), kMeter1, 0x00010000);
    REQUIRE_FALSE(answer.has_value());
    CHECK(answer.error().kind == AnswerErrorKind::WrongDataId);
    CHECK(answer.error().message == "answer for DI 00000000, asked DI 00010000");
}

TEST_CASE("a read-address answer given to decode_read_answer is WrongFunction") {
    auto answer = decode_read_answer(scan_one(kAnswerAddress), kMeter2, kEnergy);
    REQUIRE_FALSE(answer.has_value());
    CHECK(answer.error().kind == AnswerErrorKind::WrongFunction);
    CHECK(answer.error().message.find("0x93") != std::string::npos);
}

TEST_CASE("an abnormal control answer to a read is WrongFunction and not Abnormal") {
    auto answer = decode_read_answer(scan_one(kControlRefused), kMeter1, kEnergy);
    REQUIRE_FALSE(answer.has_value());
    CHECK(answer.error().kind == AnswerErrorKind::WrongFunction);
}

TEST_CASE("our own request echoed back is not an answer") {
    auto answer = decode_read_answer(scan_one(kReadVoltage), kMeter2, kVoltageA);
    REQUIRE_FALSE(answer.has_value());
    CHECK(answer.error().kind == AnswerErrorKind::WrongFunction);
    CHECK(answer.error().message.find("request") != std::string::npos);
    auto addr = decode_read_address_answer(scan_one(kReadAddress));
    REQUIRE_FALSE(addr.has_value());
    CHECK(addr.error().kind == AnswerErrorKind::WrongFunction);
}

TEST_CASE("a read answer too short for a DI is Malformed") {
    const Frame f{kMeter1, 0x91, hex("00 00")};
    auto answer = decode_read_answer(f, kMeter1, kEnergy);
    REQUIRE_FALSE(answer.has_value());
    CHECK(answer.error().kind == AnswerErrorKind::Malformed);
}

TEST_CASE("a value of the wrong length for a known DI is Malformed") {
    const Frame f{kMeter1, 0x91, hex("00 00 00 00 45 23 01")};
    auto answer = decode_read_answer(f, kMeter1, kEnergy);
    REQUIRE_FALSE(answer.has_value());
    CHECK(answer.error().kind == AnswerErrorKind::Malformed);
    CHECK(answer.error().message.find("energy_kwh") != std::string::npos);
}

TEST_CASE("an unknown DI's value is returned whatever its length") {
    const Frame f{kMeter1, 0x91, hex("00 FF 01 00 01 02 03 04 05 06 07 08 09 10")};
    auto answer = decode_read_answer(f, kMeter1, 0x0001FF00);
    REQUIRE(answer.has_value());
    CHECK(answer->value.size() == 10);
}

TEST_CASE("an abnormal answer without an error byte is Malformed") {
    const Frame f{kMeter1, 0xD1, {}};
    auto answer = decode_read_answer(f, kMeter1, kEnergy);
    REQUIRE_FALSE(answer.has_value());
    CHECK(answer.error().kind == AnswerErrorKind::Malformed);
}

TEST_CASE("B1 says more data follows") {
    const Frame f{kMeter1, 0xB1, hex("00 FF 01 00 45 23 01 00")};
    auto answer = decode_read_answer(scan_one(encode_frame(f)), kMeter1, 0x0001FF00);
    REQUIRE(answer.has_value());
    CHECK(answer->more_follows);
    CHECK(answer->value == hex("45 23 01 00"));
}

TEST_CASE("a follow-up answer's SEQ byte is taken off the value") {
    const Frame last{kMeter1, 0x92, hex("00 FF 01 00 45 23 01 00 02")};
    auto answer = decode_read_answer(last, kMeter1, 0x0001FF00);
    REQUIRE(answer.has_value());
    CHECK_FALSE(answer->more_follows);
    REQUIRE(answer->seq.has_value());
    CHECK(*answer->seq == 2);
    CHECK(answer->value == hex("45 23 01 00"));

    const Frame more{kMeter1, 0xB2, hex("00 FF 01 00 45 23 01 00 01")};
    auto again = decode_read_answer(more, kMeter1, 0x0001FF00);
    REQUIRE(again.has_value());
    CHECK(again->more_follows);

    const Frame no_seq{kMeter1, 0x92, hex("00 FF 01 00")};
    auto bad = decode_read_answer(no_seq, kMeter1, 0x0001FF00);
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().kind == AnswerErrorKind::Malformed);
}

TEST_CASE("a read-address answer must carry its own address field") {
    Frame f = scan_one(kAnswerAddress);
    f.address = kMeter1;
    auto a = decode_read_address_answer(f);
    REQUIRE_FALSE(a.has_value());
    CHECK(a.error().kind == AnswerErrorKind::Malformed);
}

TEST_CASE("a read-address answer needs 6 data bytes and control 93") {
    const Frame short_data{kMeter2, 0x93, hex("78 56 34 12 20")};
    auto a = decode_read_address_answer(short_data);
    REQUIRE_FALSE(a.has_value());
    CHECK(a.error().kind == AnswerErrorKind::Malformed);

    auto b = decode_read_address_answer(scan_one(kAnswerVoltage));
    REQUIRE_FALSE(b.has_value());
    CHECK(b.error().kind == AnswerErrorKind::WrongFunction);
}

TEST_CASE("describe_error_word names every bit set") {
    CHECK(describe_error_word(kErrNoData | kErrUnauthorised) ==
          "no requested data; password wrong or unauthorised");
    CHECK(describe_error_word(kErrOther) == "other error");
    CHECK(describe_error_word(0) == "no error bits set");
    CHECK(describe_error_word(0xFF).find("too many tariffs; reserved bit 7") != std::string::npos);
}

// --- BCD numbers -----------------------------------------------------------------

TEST_CASE("decode_bcd_decimal reads packed BCD low byte first") {
    auto d = decode_bcd_decimal(hex("45 23 01 00"), 2, false);
    REQUIRE(d.has_value());
    CHECK(d->mantissa == 12345);
    CHECK(d->scale == 2);
    CHECK(d->to_string() == "123.45");
}

TEST_CASE("decode_bcd_decimal takes the sign from the top bit of the last byte") {
    auto negative = decode_bcd_decimal(hex("34 12 80"), 3, true);
    REQUIRE(negative.has_value());
    CHECK(negative->to_string() == "-1.234");
    auto positive = decode_bcd_decimal(hex("34 12 05"), 3, true);
    REQUIRE(positive.has_value());
    CHECK(positive->to_string() == "51.234");
    // Unsigned, the same top bit is the digit 8.
    auto unsigned_value = decode_bcd_decimal(hex("34 12 80"), 3, false);
    REQUIRE(unsigned_value.has_value());
    CHECK(unsigned_value->to_string() == "801.234");
}

TEST_CASE("decode_bcd_decimal rejects nibbles above 9 and says where") {
    auto d = decode_bcd_decimal(hex("00 00 3F 00"), 2, false);
    REQUIRE_FALSE(d.has_value());
    CHECK(d.error().message == "byte 2 is 0x3F: not BCD");
    auto high = decode_bcd_decimal(hex("A0"), 0, false);
    REQUIRE_FALSE(high.has_value());
    CHECK(high.error().message == "byte 0 is 0xA0: not BCD");
    // The sign bit is masked, the rest must still be BCD.
    CHECK_FALSE(decode_bcd_decimal(hex("00 FF"), 0, true).has_value());
}

TEST_CASE("decode_bcd_decimal refuses empty and overlong input") {
    CHECK_FALSE(decode_bcd_decimal(Bytes{}, 0, false).has_value());
    auto big = decode_bcd_decimal(hex("99 99 99 99 99 99 99 99 99"), 0, false);
    REQUIRE(big.has_value());
    CHECK(big->mantissa == 999'999'999'999'999'999);
    CHECK_FALSE(decode_bcd_decimal(Bytes(10, 0x99), 0, false).has_value());
}

TEST_CASE("encode_bcd_decimal is the inverse of decode_bcd_decimal") {
    auto b = encode_bcd_decimal(Decimal{12345, 2}, 4, 2, false);
    REQUIRE(b.has_value());
    CHECK(*b == hex("45 23 01 00"));
    auto negative = encode_bcd_decimal(Decimal{-1234, 3}, 3, 3, true);
    REQUIRE(negative.has_value());
    CHECK(*negative == hex("34 12 80"));
}

TEST_CASE("encode_bcd_decimal rescales to the field's decimals") {
    auto b = encode_bcd_decimal(Decimal{22030, 2}, 2, 1, false);
    REQUIRE(b.has_value());
    CHECK(*b == hex("03 22"));
    auto up = encode_bcd_decimal(Decimal{220, 0}, 2, 1, false);
    REQUIRE(up.has_value());
    CHECK(*up == hex("00 22"));
}

TEST_CASE("encode_bcd_decimal fails when the value does not fit") {
    auto too_big = encode_bcd_decimal(Decimal{100000000, 2}, 4, 2, false);
    REQUIRE_FALSE(too_big.has_value());
    CHECK(too_big.error().message.find("does not fit") != std::string::npos);
    // Signed: the top digit has only three bits beside the sign.
    CHECK(encode_bcd_decimal(Decimal{-7999, 0}, 2, 0, true).has_value());
    CHECK_FALSE(encode_bcd_decimal(Decimal{8000, 0}, 2, 0, true).has_value());
    CHECK(encode_bcd_decimal(Decimal{8000, 0}, 2, 0, false).has_value());
    CHECK_FALSE(encode_bcd_decimal(Decimal{12345, 3}, 4, 2, false).has_value());
    CHECK_FALSE(encode_bcd_decimal(Decimal{-1, 0}, 2, 0, false).has_value());
    CHECK_FALSE(encode_bcd_decimal(Decimal{1, 0}, 0, 0, false).has_value());
    const auto max = std::numeric_limits<std::int64_t>::max();
    const auto min = std::numeric_limits<std::int64_t>::min();
    CHECK_FALSE(encode_bcd_decimal(Decimal{max, 0}, 4, 4, false).has_value());
    CHECK_FALSE(encode_bcd_decimal(Decimal{min, 0}, 9, 0, true).has_value());
    CHECK(encode_bcd_decimal(Decimal{min, 0}, 10, 0, true).has_value());
    CHECK(encode_bcd_decimal(Decimal{0, 0}, 4, 200, false).has_value());
}

// --- value formats ---------------------------------------------------------------

TEST_CASE("a date comes as WW DD MM YY and prints as 2026-11-24") {
    auto v = decode_value(item("meter_date"), hex("02 24 11 26"));
    REQUIRE(v.has_value());
    CHECK(v->format == ValueFormat::Date);
    CHECK(v->when.year == 2026);
    CHECK(v->when.month == 11);
    CHECK(v->when.day == 24);
    CHECK(v->when.weekday == 2);
    CHECK(v->to_string() == "2026-11-24");
}

TEST_CASE("impossible dates are rejected") {
    const DataItem& date = item("meter_date");
    CHECK_FALSE(decode_value(date, hex("02 24 13 26")).has_value());  // month 13
    CHECK_FALSE(decode_value(date, hex("02 24 00 26")).has_value());  // month 0
    CHECK_FALSE(decode_value(date, hex("02 00 11 26")).has_value());  // day 0
    CHECK_FALSE(decode_value(date, hex("02 30 02 26")).has_value());  // 30 February
    CHECK(decode_value(date, hex("06 29 02 28")).has_value());        // 2028 is a leap year
    CHECK_FALSE(decode_value(date, hex("06 29 02 27")).has_value());
    CHECK_FALSE(decode_value(date, hex("07 24 11 26")).has_value());  // weekday 7
    auto v = decode_value(date, hex("02 24 1A 26"));
    REQUIRE_FALSE(v.has_value());
    CHECK(v.error().message == "meter_date: byte 2 is 0x1A: not BCD");
}

TEST_CASE("a time comes as ss mm hh and prints as 12:34:56") {
    auto v = decode_value(item("meter_time"), hex("56 34 12"));
    REQUIRE(v.has_value());
    CHECK(v->format == ValueFormat::Time);
    CHECK(v->when.hour == 12);
    CHECK(v->when.minute == 34);
    CHECK(v->when.second == 56);
    CHECK(v->to_string() == "12:34:56");
    auto midnight = decode_value(item("meter_time"), hex("05 00 00"));
    REQUIRE(midnight.has_value());
    CHECK(midnight->to_string() == "00:00:05");
}

TEST_CASE("impossible times are rejected") {
    const DataItem& time = item("meter_time");
    CHECK_FALSE(decode_value(time, hex("00 00 24")).has_value());
    CHECK_FALSE(decode_value(time, hex("00 60 12")).has_value());
    auto v = decode_value(time, hex("60 00 12"));
    REQUIRE_FALSE(v.has_value());
    CHECK(v.error().message == "meter_time: second 60 is not 0-59");
}

TEST_CASE("a status word is two bytes low first and not BCD") {
    auto v = decode_value(item("status_word_3"), hex("D0 02"));
    REQUIRE(v.has_value());
    CHECK(v->format == ValueFormat::StatusWord);
    CHECK(v->status == 0x02D0);
    CHECK(v->number.mantissa == 0x02D0);
    CHECK(v->to_string() == "0x02D0");
}

TEST_CASE("an address value is six bytes like the address field") {
    auto v = decode_value(item("meter_address"), hex("78 56 34 12 20 20"));
    REQUIRE(v.has_value());
    CHECK(v->format == ValueFormat::AddressValue);
    CHECK(v->address == kMeter2);
    CHECK(v->to_string() == "202012345678");
}

TEST_CASE("signed quantities decode with their sign") {
    auto current = decode_value(item("current_a_a"), hex("50 12 80"));
    REQUIRE(current.has_value());
    CHECK(current->to_string() == "-1.250");
    auto power = decode_value(item("active_power_kw"), hex("00 50 82"));
    REQUIRE(power.has_value());
    CHECK(power->to_string() == "-2.5000");
    auto pf = decode_value(item("power_factor"), hex("90 09"));
    REQUIRE(pf.has_value());
    CHECK(pf->to_string() == "0.990");
}

TEST_CASE("decode_value names the item and the lengths on a wrong length") {
    auto v = decode_value(item("energy_kwh"), hex("45 23 01"));
    REQUIRE_FALSE(v.has_value());
    CHECK(v.error().message == "energy_kwh needs 4 bytes, got 3");
}

TEST_CASE("relay status bits of status word 3") {
    const RelayStatus closed = decode_relay_status(0x0000);
    CHECK_FALSE(closed.open);
    CHECK_FALSE(closed.open_commanded);
    CHECK_FALSE(closed.pre_trip_alarm);
    CHECK(closed.prepaid_type == 0);

    const RelayStatus open = decode_relay_status(0x0010);
    CHECK(open.open);
    CHECK_FALSE(open.open_commanded);

    const RelayStatus all = decode_relay_status(0x02D0);
    CHECK(all.open);
    CHECK(all.open_commanded);
    CHECK(all.pre_trip_alarm);
    CHECK(all.prepaid_type == 2);  // money prepaid

    CHECK(decode_relay_status(0x0100).prepaid_type == 1);
    CHECK(decode_relay_status(0xFC2F).prepaid_type == 0);
    CHECK_FALSE(decode_relay_status(0xFF2F).open);
}

namespace {

// A value for `item` that uses every digit its field has (and the sign, when signed).
Value sample_value(const DataItem& d) {
    Value v;
    v.format = d.format;
    switch (d.format) {
        case ValueFormat::Decimal: {
            std::int64_t m = 0;
            for (std::size_t i = 0; i + 1 < 2U * d.length; ++i) {
                m = m * 10 + static_cast<std::int64_t>(i % 9 + 1);
            }
            v.number = Decimal{d.is_signed ? -m : m, d.decimals};
            break;
        }
        case ValueFormat::Date:
            v.when = DateTime{2026, 11, 24, 0, 0, 0, 2};
            break;
        case ValueFormat::Time:
            v.when = DateTime{2000, 1, 1, 23, 59, 58, 0};
            break;
        case ValueFormat::StatusWord:
            v.status = 0x02D0;
            v.number = Decimal{0x02D0, 0};
            break;
        case ValueFormat::AddressValue:
            v.address = kMeter2;
            break;
    }
    return v;
}

}  // namespace

TEST_CASE("encode_value and decode_value round-trip every known data item") {
    REQUIRE(known_data_items().size() > 0);
    for (const DataItem& d : known_data_items()) {
        CAPTURE(d.quantity);
        CHECK(find_data_item(d.di) == &d);
        CHECK(find_data_item(d.quantity) == &d);
        const Value sent = sample_value(d);
        auto bytes = encode_value(d, sent);
        REQUIRE(bytes.has_value());
        CHECK(bytes->size() == d.length);
        auto back = decode_value(d, *bytes);
        REQUIRE(back.has_value());
        CHECK(back->format == sent.format);
        CHECK(back->to_string() == sent.to_string());
        CHECK(back->number == sent.number);
        CHECK(back->when == sent.when);
        CHECK(back->status == sent.status);
        CHECK(back->address == sent.address);
        auto again = encode_value(d, *back);
        REQUIRE(again.has_value());
        CHECK(*again == *bytes);
    }
}

TEST_CASE("every known data item round-trips through a whole read answer") {
    for (const DataItem& d : known_data_items()) {
        CAPTURE(d.quantity);
        auto value = encode_value(d, sample_value(d));
        REQUIRE(value.has_value());
        Bytes data{static_cast<std::uint8_t>(d.di), static_cast<std::uint8_t>(d.di >> 8),
                   static_cast<std::uint8_t>(d.di >> 16), static_cast<std::uint8_t>(d.di >> 24)};
        data.insert(data.end(), value->begin(), value->end());
        const Bytes wire = encode_frame(Frame{kMeter2, 0x91, data}, 2);
        auto answer = decode_read_answer(scan_one(wire), kMeter2, d.di);
        REQUIRE(answer.has_value());
        auto decoded = decode_value(d, answer->value);
        REQUIRE(decoded.has_value());
        CHECK(decoded->to_string() == sample_value(d).to_string());
    }
}

TEST_CASE("encode_value refuses a value of another format or out of range") {
    Value time;
    time.format = ValueFormat::Time;
    time.when.hour = 12;
    CHECK_FALSE(encode_value(item("meter_date"), time).has_value());
    time.when.hour = 24;
    auto bad = encode_value(item("meter_time"), time);
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().message == "meter_time: hour 24 is not 0-23");
    Value date;
    date.format = ValueFormat::Date;
    date.when = DateTime{2100, 1, 1, 0, 0, 0, 5};
    CHECK_FALSE(encode_value(item("meter_date"), date).has_value());
}

// --- relay and alarm control -----------------------------------------------------

namespace {

const DateTime kEndOf2026{2026, 12, 31, 12, 0, 0, 4};

ControlAuth auth(std::uint8_t privilege, std::string_view password, std::string_view op) {
    auto a = ControlAuth::parse(privilege, password, op);
    REQUIRE(a.has_value());
    return *a;
}

constexpr ControlCommand kAllCommands[] = {
    ControlCommand::Trip,
    ControlCommand::CloseAllowed,
    ControlCommand::DirectClose,
    ControlCommand::Alarm,
    ControlCommand::AlarmRelease,
    ControlCommand::KeepPower,
    ControlCommand::KeepPowerRelease,
};

}  // namespace

TEST_CASE("ControlAuth::parse packs password and operator code low byte first") {
    const ControlAuth a = auth(0x04, "123456", "87654321");
    CHECK(a.privilege == 0x04);
    CHECK(a.password == std::array<std::uint8_t, 3>{0x56, 0x34, 0x12});
    CHECK(a.operator_code == std::array<std::uint8_t, 4>{0x21, 0x43, 0x65, 0x87});
    const ControlAuth worked = auth(0x02, "000000", "00000001");
    CHECK(worked.password == std::array<std::uint8_t, 3>{0, 0, 0});
    CHECK(worked.operator_code == std::array<std::uint8_t, 4>{0x01, 0, 0, 0});
}

TEST_CASE("ControlAuth::parse rejects wrong lengths and non-digits") {
    CHECK_FALSE(ControlAuth::parse(2, "12345", "00000001").has_value());
    CHECK_FALSE(ControlAuth::parse(2, "1234567", "00000001").has_value());
    CHECK_FALSE(ControlAuth::parse(2, "12345A", "00000001").has_value());
    CHECK_FALSE(ControlAuth::parse(2, "123456", "0000001").has_value());
    auto op = ControlAuth::parse(2, "123456", "0000000x");
    REQUIRE_FALSE(op.has_value());
    CHECK(op.error().message == "operator code '0000000x' is not 8 decimal digits");
}

TEST_CASE("ControlAuth::parse does not repeat a wrong password in its message") {
    auto pw = ControlAuth::parse(2, "12345x", "00000001");
    REQUIRE_FALSE(pw.has_value());
    CHECK(pw.error().message == "password is not 6 decimal digits");
    CHECK(pw.error().message.find("12345") == std::string::npos);
}

TEST_CASE("encode_control builds the worked trip relay frame") {
    const ControlAuth a = auth(0x02, "000000", "00000001");
    CHECK(encode_control(kMeter1, a, ControlCommand::Trip, kEndOf2026, 0) == kTripRelay);
    CHECK(encode_control(kMeter1, a, ControlCommand::Trip, kEndOf2026) ==
          concat({hex("FE FE FE FE"), kTripRelay}));
}

TEST_CASE("encode_control carries privilege password operator and deadline") {
    // DATA 04 563412 21436587 1C 00 15 30 08 05 01 27, each +33; CS = sum mod 256 = 06.
    const DateTime deadline{2027, 1, 5, 8, 30, 15, 2};
    CHECK(encode_control(kMeter2, auth(0x04, "123456", "87654321"), ControlCommand::DirectClose,
                         deadline, 0) ==
          hex("68 78 56 34 12 20 20 68 1C 10 37 89 67 45 54 76 98 BA 4F 33 48 63 3B 38 34 5A 06 "
              "16"));
}

TEST_CASE("encode_control puts every command in N1 and N2 stays 00") {
    const ControlAuth a = auth(0x02, "000000", "00000001");
    std::vector<std::string_view> names;
    for (ControlCommand command : kAllCommands) {
        CAPTURE(static_cast<int>(command));
        const Frame f = scan_one(encode_control(kMeter1, a, command, kEndOf2026));
        CHECK(f.control == 0x1C);
        REQUIRE(f.data.size() == 16);
        CHECK(f.data[8] == static_cast<std::uint8_t>(command));
        CHECK(f.data[9] == 0x00);
        CHECK(Bytes(f.data.begin() + 10, f.data.end()) == hex("00 00 12 31 12 26"));
        const std::string_view name = control_command_name(command);
        CHECK(name != "unknown");
        for (std::string_view other : names) CHECK(other != name);
        names.push_back(name);
    }
    CHECK(control_command_name(static_cast<ControlCommand>(0x99)) == "unknown");
}

TEST_CASE("decode_control_answer accepts the worked control ok") {
    CHECK(decode_control_answer(scan_one(kControlOk), kMeter1).has_value());
    CHECK(decode_control_answer(scan_one(kControlOk), Address::wildcard()).has_value());
}

TEST_CASE("worked control refusal decodes to Abnormal unauthorised") {
    auto r = decode_control_answer(scan_one(kControlRefused), kMeter1);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().kind == AnswerErrorKind::Abnormal);
    CHECK(r.error().error_word == kErrUnauthorised);
    CHECK(r.error().message == "meter reports: password wrong or unauthorised");
}

TEST_CASE("decode_control_answer checks meter and function and direction") {
    auto other = decode_control_answer(scan_one(kControlOk), kMeter2);
    REQUIRE_FALSE(other.has_value());
    CHECK(other.error().kind == AnswerErrorKind::WrongAddress);

    auto read = decode_control_answer(scan_one(kAnswerEnergy), kMeter1);
    REQUIRE_FALSE(read.has_value());
    CHECK(read.error().kind == AnswerErrorKind::WrongFunction);

    auto no_data = decode_control_answer(scan_one(kReadNoData), kMeter1);
    REQUIRE_FALSE(no_data.has_value());
    CHECK(no_data.error().kind == AnswerErrorKind::WrongFunction);

    auto echo = decode_control_answer(scan_one(kTripRelay), kMeter1);
    REQUIRE_FALSE(echo.has_value());
    CHECK(echo.error().kind == AnswerErrorKind::WrongFunction);
    CHECK(echo.error().message.find("request") != std::string::npos);

    auto bare = decode_control_answer(Frame{kMeter1, 0xDC, {}}, kMeter1);
    REQUIRE_FALSE(bare.has_value());
    CHECK(bare.error().kind == AnswerErrorKind::Malformed);
}

TEST_CASE("describe_answer_error_kind names every kind differently") {
    const AnswerErrorKind kinds[] = {AnswerErrorKind::WrongAddress, AnswerErrorKind::WrongFunction,
                                     AnswerErrorKind::WrongDataId, AnswerErrorKind::Malformed,
                                     AnswerErrorKind::Abnormal};
    std::vector<std::string_view> names;
    for (AnswerErrorKind kind : kinds) {
        const std::string_view name = describe_answer_error_kind(kind);
        CHECK_FALSE(name.empty());
        for (std::string_view other : names) CHECK(other != name);
        names.push_back(name);
    }
    CHECK(describe_answer_error_kind(AnswerErrorKind::Abnormal) == "abnormal answer");
}

// --- block reads -----------------------------------------------------------------

TEST_CASE("the tariff items of the combined and reverse energy blocks are known") {
    CHECK(find_data_item(0x00000100) == &item("energy_t1_kwh"));
    CHECK(find_data_item(0x00000400) == &item("energy_t4_kwh"));
    CHECK(find_data_item(0x00020100) == &item("export_energy_t1_kwh"));
    CHECK(find_data_item(0x00020400) == &item("export_energy_t4_kwh"));
    CHECK(item("export_energy_t2_kwh").length == 4);
    CHECK(item("export_energy_t2_kwh").decimals == 2);
}

TEST_CASE("find_block knows the energy voltage and current blocks") {
    const DataBlock* import = find_block(0x0001FF00);
    REQUIRE(import != nullptr);
    CHECK(import->members.size() == 5);
    CHECK(import->members[0] == 0x00010000);
    CHECK(import->members[4] == 0x00010400);
    for (DataId di : {0x0000FF00U, 0x0002FF00U, 0x0201FF00U, 0x0202FF00U}) {
        CAPTURE(di);
        CHECK(find_block(di) != nullptr);
    }
    CHECK(find_block(0x0000FF00)->members[0] == 0x00000000);
    CHECK(find_block(0x0201FF00)->members.size() == 3);
    CHECK(find_block(0x00010000) == nullptr);
    CHECK(find_block(0x0203FF00) == nullptr);
}

TEST_CASE("every block member is a known item and blocks are not items") {
    REQUIRE(known_blocks().size() >= 5);
    for (const DataBlock& block : known_blocks()) {
        CAPTURE(block.name);
        CHECK(find_block(block.di) == &block);
        CHECK(find_data_item(block.di) == nullptr);
        CHECK_FALSE(block.members.empty());
        for (DataId member : block.members) {
            CHECK(find_data_item(member) != nullptr);
            CHECK(find_block_containing(member) == &block);
        }
    }
}

TEST_CASE("find_block_containing finds the block of a member") {
    CHECK(find_block_containing(0x00010300) == find_block(0x0001FF00));
    CHECK(find_block_containing(0x00000000) == find_block(0x0000FF00));
    CHECK(find_block_containing(0x02020200) == find_block(0x0202FF00));
    CHECK(find_block_containing(0x02030000) == nullptr);
    CHECK(find_block_containing(0x04000503) == nullptr);
}

TEST_CASE("a forward energy block answer splits into total and four tariffs") {
    const Bytes value = hex("45 23 01 00  00 10 00 00  00 20 00 00  45 93 00 00  00 00 00 00");
    Bytes data = hex("00 FF 01 00");
    data.insert(data.end(), value.begin(), value.end());
    const Bytes wire = encode_frame(Frame{kMeter1, 0x91, data}, 0);
    auto answer = decode_read_answer(scan_one(wire), kMeter1, 0x0001FF00);
    REQUIRE(answer.has_value());
    CHECK(answer->value == value);
    const DataBlock* block = find_block(answer->di);
    REQUIRE(block != nullptr);
    auto values = decode_block(*block, answer->value);
    REQUIRE(values.has_value());
    REQUIRE(values->size() == 5);
    const char* expected[][2] = {{"import_energy_kwh", "123.45"},
                                 {"import_energy_t1_kwh", "10.00"},
                                 {"import_energy_t2_kwh", "20.00"},
                                 {"import_energy_t3_kwh", "93.45"},
                                 {"import_energy_t4_kwh", "0.00"}};
    for (std::size_t i = 0; i < values->size(); ++i) {
        CAPTURE(i);
        CHECK((*values)[i].first->quantity == expected[i][0]);
        CHECK((*values)[i].second.to_string() == expected[i][1]);
    }
}

TEST_CASE("voltage and current blocks decode each phase with its sign") {
    auto voltage = decode_block(*find_block(0x0201FF00), hex("03 22 10 22 99 21"));
    REQUIRE(voltage.has_value());
    REQUIRE(voltage->size() == 3);
    CHECK((*voltage)[0].second.number == Decimal{2203, 1});
    CHECK((*voltage)[1].second.to_string() == "221.0");
    CHECK((*voltage)[2].first->quantity == "voltage_c_v");
    CHECK((*voltage)[2].second.to_string() == "219.9");

    auto current = decode_block(*find_block(0x0202FF00), hex("50 12 00 50 12 80 00 00 00"));
    REQUIRE(current.has_value());
    CHECK((*current)[0].second.to_string() == "1.250");
    CHECK((*current)[1].second.to_string() == "-1.250");
    CHECK((*current)[2].second.to_string() == "0.000");
}

TEST_CASE("decode_block refuses a length that is not the sum of its members") {
    const DataBlock& block = *find_block(0x0001FF00);
    auto short_value = decode_block(block, Bytes(16, 0x00));
    REQUIRE_FALSE(short_value.has_value());
    CHECK(short_value.error().message ==
          "block 0001FF00 (import_energy_block): 16 value bytes, expected 20 for 5 items");
    CHECK_FALSE(decode_block(block, Bytes(21, 0x00)).has_value());
    CHECK_FALSE(decode_block(block, Bytes{}).has_value());
    // A meter set up with eight tariffs answers 36 bytes: refused, not misread.
    CHECK_FALSE(decode_block(block, Bytes(36, 0x00)).has_value());
}

TEST_CASE("decode_block names the member that is not BCD") {
    Bytes value(20, 0x00);
    value[9] = 0x3F;  // second byte of tariff 2
    auto r = decode_block(*find_block(0x0001FF00), value);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message ==
          "block 0001FF00 (import_energy_block): import_energy_t2_kwh: byte 1 is 0x3F: not BCD");
}

TEST_CASE("decode_items splits any list of items") {
    const DataItem* items[] = {&item("frequency_hz"), &item("status_word_3")};
    auto values = decode_items(items, hex("00 50 10 00"));
    REQUIRE(values.has_value());
    REQUIRE(values->size() == 2);
    CHECK((*values)[0].second.to_string() == "50.00");
    CHECK((*values)[1].second.status == 0x0010);
    auto empty = decode_items({}, Bytes{});
    REQUIRE(empty.has_value());
    CHECK(empty->empty());
    CHECK_FALSE(decode_items({}, hex("00")).has_value());
}

// --- one-byte status words (DL/T 645-1997 items) ----------------------------------

TEST_CASE("a status word item of one byte decodes and encodes one byte") {
    const DataItem one{0xC020, "status_byte", "", ValueFormat::StatusWord, 1, 0, false};
    auto v = decode_value(one, hex("A5"));
    REQUIRE(v.has_value());
    CHECK(v->format == ValueFormat::StatusWord);
    CHECK(v->status == 0x00A5);
    CHECK(v->number.mantissa == 0xA5);
    auto back = encode_value(one, *v);
    REQUIRE(back.has_value());
    CHECK(*back == hex("A5"));
    CHECK_FALSE(decode_value(one, hex("A5 00")).has_value());

    Value wide;
    wide.format = ValueFormat::StatusWord;
    wide.status = 0x0100;
    auto refused = encode_value(one, wide);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().message == "status_byte: status word 0x0100 does not fit in 1 byte");
}

TEST_CASE("a status word item of three bytes is refused as a table error") {
    const DataItem three{0x04000599, "status_three", "", ValueFormat::StatusWord, 3, 0, false};
    auto v = decode_value(three, hex("00 00 00"));
    REQUIRE_FALSE(v.has_value());
    CHECK(v.error().message == "status_three is declared with 3 bytes but its format has 2");
}

// --- daily frozen data ---------------------------------------------------------------

namespace {

const Address kMeterOne = Address{{0x01, 0x00, 0x00, 0x00, 0x00, 0x00}};  // 000000000001

// Built by hand from the standard's layout: DI 05060001 low byte first (01 00 06 05), +33.
const Bytes kReadFreezeTime = hex("68 01 00 00 00 00 00 68 11 04 34 33 39 38 BE 16");
// Freeze at 2026-11-25 00:00: mm hh DD MM YY = 00 00 25 11 26, +33.
const Bytes kAnswerFreezeTime =
    hex("68 01 00 00 00 00 00 68 91 09 34 33 39 38 33 33 58 44 59 9E 16");
// DI 05060101; total 001234.56, tariffs 000100.00, 000200.00, 000934.56, 000000.00.
const Bytes kAnswerFrozenEnergy =
    hex("68 01 00 00 00 00 00 68 91 18 34 34 39 38 89 67 45 33 33 33 34 33 33 33 35 33 "
        "89 67 3C 33 33 33 33 33 81 16");

Frame scanned(const Bytes& bytes) {
    const auto result = scan(bytes);
    REQUIRE(result.status == ScanStatus::Complete);
    return result.frame;
}

}  // namespace

TEST_CASE("daily freeze: DIs count back from the last freeze") {
    CHECK(*daily_freeze_di(kDailyFreezeTime, 1) == 0x05060001);
    CHECK(*daily_freeze_di(kDailyFrozenImportEnergy, 1) == 0x05060101);
    CHECK(*daily_freeze_di(kDailyFrozenImportEnergy, 62) == 0x0506013E);
    CHECK_FALSE(daily_freeze_di(kDailyFreezeTime, 0).has_value());
    CHECK_FALSE(daily_freeze_di(kDailyFreezeTime, 63).has_value());
    CHECK(is_daily_freeze_di(0x05060001));
    CHECK(is_daily_freeze_di(0x05060201));
    CHECK_FALSE(is_daily_freeze_di(0x00010000));
    CHECK_FALSE(is_daily_freeze_di(0x05040001));  // hourly freeze
    CHECK(is_frozen_quantity("frozen_import_energy_kwh"));
    CHECK(is_frozen_quantity("frozen_import_energy_t4_kwh"));
    CHECK_FALSE(is_frozen_quantity("import_energy_kwh"));
}

TEST_CASE("daily freeze: the read request is the hand-built frame, byte by byte") {
    const Bytes request = encode_read(kMeterOne, 0x05060001, 0);
    CHECK(request == kReadFreezeTime);
}

TEST_CASE("daily freeze: the freeze time answer decodes to its minute") {
    const auto answer = decode_read_answer(scanned(kAnswerFreezeTime), kMeterOne, 0x05060001);
    REQUIRE(answer.has_value());
    CHECK(answer->value == Bytes{0x00, 0x00, 0x25, 0x11, 0x26});
    const auto when = decode_freeze_time(answer->value);
    REQUIRE(when.has_value());
    CHECK(*when == DateTime{2026, 11, 25, 0, 0, 0, 0});
    const auto again = encode_freeze_time(*when);
    REQUIRE(again.has_value());
    CHECK(*again == answer->value);
}

TEST_CASE("daily freeze: the forward active energy block decodes total and tariffs") {
    const auto answer = decode_read_answer(scanned(kAnswerFrozenEnergy), kMeterOne, 0x05060101);
    REQUIRE(answer.has_value());
    REQUIRE(answer->value.size() == 20);
    const auto energy = decode_frozen_energy(answer->value);
    REQUIRE(energy.has_value());
    CHECK(energy->total.to_string() == "1234.56");
    REQUIRE(energy->tariffs.size() == 4);
    CHECK(energy->tariffs[0].to_string() == "100.00");
    CHECK(energy->tariffs[1].to_string() == "200.00");
    CHECK(energy->tariffs[2].to_string() == "934.56");
    CHECK(energy->tariffs[3].to_string() == "0.00");
    const auto bytes = encode_frozen_energy(*energy);
    REQUIRE(bytes.has_value());
    CHECK(*bytes == answer->value);
    // The whole frame again from the encoder: the same bytes as built by hand.
    Bytes data{0x01, 0x01, 0x06, 0x05};
    data.insert(data.end(), bytes->begin(), bytes->end());
    CHECK(encode_frame(Frame{kMeterOne, 0x91, data}, 0) == kAnswerFrozenEnergy);
}

TEST_CASE("daily freeze: a meter with fewer tariffs sends a shorter block") {
    const auto total_only = decode_frozen_energy(hex("56 34 12 00"));
    REQUIRE(total_only.has_value());
    CHECK(total_only->total.to_string() == "1234.56");
    CHECK(total_only->tariffs.empty());
    const auto two = decode_frozen_energy(hex("00 01 00 00 00 00 00 00 00 01 00 00"));
    REQUIRE(two.has_value());
    CHECK(two->total.to_string() == "1.00");
    CHECK(two->tariffs.size() == 2);
}

TEST_CASE("daily freeze: malformed values are refused with a reason") {
    // Not a whole number of values, none at all, more than four tariffs.
    CHECK_FALSE(decode_frozen_energy(hex("56 34 12")).has_value());
    CHECK_FALSE(decode_frozen_energy(Bytes{}).has_value());
    CHECK_FALSE(decode_frozen_energy(Bytes(24, 0x00)).has_value());
    // A nibble above 9 in tariff 2.
    const auto bad = decode_frozen_energy(hex("00 00 00 00 00 00 00 00 0A 00 00 00"));
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().message.find("tariff 2") != std::string::npos);
    // Freeze times: wrong length, not BCD, impossible date, impossible time.
    CHECK_FALSE(decode_freeze_time(hex("00 00 25 11")).has_value());
    CHECK_FALSE(decode_freeze_time(hex("00 00 2A 11 26")).has_value());
    CHECK_FALSE(decode_freeze_time(hex("00 00 31 11 26")).has_value());  // 31 November
    CHECK_FALSE(decode_freeze_time(hex("00 24 25 11 26")).has_value());  // 24:00
    CHECK_FALSE(decode_freeze_time(hex("60 00 25 11 26")).has_value());  // minute 60
    CHECK_FALSE(decode_freeze_time(hex("00 00 00 00 00")).has_value());  // never frozen
    // Encoding refuses what does not fit.
    CHECK_FALSE(encode_frozen_energy({Decimal{100000000, 2}, {}}).has_value());
    CHECK_FALSE(encode_frozen_energy({Decimal{1, 3}, {}}).has_value());
    CHECK_FALSE(
        encode_frozen_energy({Decimal{0, 2}, std::vector<Decimal>(5, Decimal{0, 2})}).has_value());
    CHECK_FALSE(encode_freeze_time(DateTime{2026, 2, 30, 0, 0, 0, 0}).has_value());
}
