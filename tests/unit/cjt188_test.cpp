// CJ/T 188-2004 codec: the worked frames of shared/protocols.md in both directions, the
// stream scanner against noise and fragments, answer checks, status words and units.
#include <doctest/doctest.h>

#include "hex_bytes.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ecmgw/protocols/cjt188.hpp"

using namespace ecmgw::cjt188;
using ecmgw::Decimal;

using ecmgw::test::concat;
using ecmgw::test::hex;

namespace {

Address address(std::string_view digits) {
    auto a = Address::parse(digits);
    REQUIRE(a.has_value());
    return *a;
}

// Cold water meter 12345678901234.
const Address kMeter = Address{{0x34, 0x12, 0x90, 0x78, 0x56, 0x34, 0x12}};
const Address kOther = Address{{0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}};

// The worked frames of shared/protocols.md.
const Bytes kReadData = hex("FE FE 68 10 34 12 90 78 56 34 12 01 03 1F 90 01 16 16");
const Bytes kAnswerData =
    hex("68 10 34 12 90 78 56 34 12 81 16 1F 90 01 50 34 12 00 2C 00 30 12 00 2C 56 34 12 24 11 26 "
        "20 00 00 F0 16");
const Bytes kCloseValve = hex("68 10 34 12 90 78 56 34 12 04 04 17 A0 02 99 BC 16");
const Bytes kValveClosed = hex("68 10 34 12 90 78 56 34 12 84 05 17 A0 02 01 00 A5 16");

// Hand-made, checksums written out (sum mod 256 from 68 to the last DATA byte):
// read address, SER 05: 68+AA×8+03+03+0A+81+05 = 0x64E -> 4E.
const Bytes kReadAddress = hex("68 AA AA AA AA AA AA AA AA 03 03 0A 81 05 4E 16");
// its answer with T=10: 68+10+34+12+90+78+56+34+12+83+03+0A+81+05 = 0x378 -> 78.
const Bytes kAddressAnswer = hex("68 10 34 12 90 78 56 34 12 83 03 0A 81 05 78 16");
// open valve, SER 03: 68+10+34+12+90+78+56+34+12+04+04+17+A0+03+55 = 0x379 -> 79.
const Bytes kOpenValve = hex("68 10 34 12 90 78 56 34 12 04 04 17 A0 03 55 79 16");
// abnormal read answer SER 01, ST 03 00: 68+10+34+12+90+78+56+34+12+C1+03+01+03+00 = 0x32A -> 2A.
const Bytes kAbnormalRead = hex("68 10 34 12 90 78 56 34 12 C1 03 01 03 00 2A 16");

Frame scan_one(const Bytes& bytes) {
    auto r = scan(bytes);
    REQUIRE(r.status == ScanStatus::Complete);
    return r.frame;
}

// The worked answer's DATA with some bytes replaced, re-framed with a correct checksum.
Frame answer_with(std::size_t at, const Bytes& replacement, std::uint8_t type = 0x10) {
    Frame f = scan_one(kAnswerData);
    std::copy(replacement.begin(), replacement.end(),
              f.data.begin() + static_cast<std::ptrdiff_t>(at));
    f.type = type;
    return scan_one(encode_frame(f, 0));
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
    CHECK(address("12345678901234") == kMeter);
    CHECK(kMeter.to_string() == "12345678901234");
    CHECK(address("00000000000001") == kOther);
    CHECK(kOther.to_string() == "00000000000001");
}

TEST_CASE("Address::parse accepts the wildcard in any case") {
    CHECK(address("AAAAAAAAAAAAAA").is_wildcard());
    CHECK(address("aaaaaaaAAAAAAA") == Address::wildcard());
    CHECK(Address::wildcard().to_string() == "AAAAAAAAAAAAAA");
    CHECK_FALSE(kMeter.is_wildcard());
}

TEST_CASE("Address::parse rejects wrong lengths and names a non-digit") {
    for (std::string_view bad : {"", "1234567890123", "123456789012345", "202012345678"}) {
        auto a = Address::parse(bad);
        REQUIRE_FALSE(a.has_value());
        CHECK(a.error().message.find("expected 14 decimal digits") != std::string::npos);
    }
    auto x = Address::parse("1234567890123x");
    REQUIRE_FALSE(x.has_value());
    CHECK(x.error().message.find("'x' at position 14") != std::string::npos);
    CHECK_FALSE(Address::parse("AAAAAAAAAAAAA1").has_value());
}

TEST_CASE("an address with non-BCD nibbles prints as hex digits") {
    const Address odd{{0x34, 0x12, 0x90, 0x78, 0x56, 0x3B, 0x12}};
    CHECK(odd.to_string() == "123B5678901234");
}

// --- encoding --------------------------------------------------------------------

TEST_CASE("encode_read_data builds the worked 901F read with two wake-up bytes") {
    CHECK(encode_read_data(MeterType::ColdWater, address("12345678901234"), 0x01) == kReadData);
    CHECK(encode_read_data(MeterType::ColdWater, kMeter, 0x01, 0) ==
          Bytes(kReadData.begin() + 2, kReadData.end()));
}

TEST_CASE("encode_valve builds the worked close and the hand-made open") {
    CHECK(encode_valve(MeterType::ColdWater, kMeter, 0x02, false, 0) == kCloseValve);
    CHECK(encode_valve(MeterType::ColdWater, kMeter, 0x03, true, 0) == kOpenValve);
    CHECK(encode_valve(MeterType::ColdWater, kMeter, 0x02, false) ==
          concat({hex("FE FE"), kCloseValve}));
}

TEST_CASE("encode_read_address goes to the wildcard with type AA") {
    CHECK(encode_read_address(0x05, 0) == kReadAddress);
    CHECK(encode_read_address(0x05, 4) == concat({hex("FE FE FE FE"), kReadAddress}));
}

TEST_CASE("the meter type goes into T") {
    const Frame gas = scan_one(encode_read_data(MeterType::Gas, kMeter, 9));
    CHECK(gas.type == 0x30);
    CHECK(gas.data == hex("1F 90 09"));
    CHECK(scan_one(encode_read_data(MeterType::HotWater, kMeter, 9)).type == 0x11);
}

TEST_CASE("every worked frame scans and encodes back to the same bytes") {
    for (const Bytes* bytes : {&kReadData, &kAnswerData, &kCloseValve, &kValveClosed, &kReadAddress,
                               &kAddressAnswer, &kOpenValve, &kAbnormalRead}) {
        auto r = scan(*bytes);
        REQUIRE(r.status == ScanStatus::Complete);
        CHECK(r.skipped + r.length == bytes->size());
        CHECK(r.checksum_errors == 0);
        CHECK(encode_frame(r.frame, r.skipped) == *bytes);
    }
}

TEST_CASE("encode_frame cuts DATA beyond the limit so the frame stays consistent") {
    const Frame big{0x10, kMeter, 0x81, Bytes(150, 0x01)};
    const Bytes wire = encode_frame(big, 0);
    CHECK(wire.size() == 13 + kMaxDataLength);
    auto r = scan(wire);
    REQUIRE(r.status == ScanStatus::Complete);
    CHECK(r.frame.data.size() == kMaxDataLength);
}

// --- decoding the worked answers -------------------------------------------------

TEST_CASE("worked read answer decodes to 1234.50 m3 and 1230.00 m3 at 2026-11-24 12:34:56") {
    const Frame f = scan_one(kAnswerData);
    CHECK(f.type == 0x10);
    CHECK(f.address == kMeter);
    CHECK(f.control == 0x81);
    CHECK(f.data.size() == 0x16);
    auto reading = decode_read_data_answer(f, kMeter, 0x01);
    REQUIRE(reading.has_value());
    CHECK(reading->current == Decimal{123450, 2});
    CHECK(reading->current.to_string() == "1234.50");
    CHECK(reading->current_unit == kUnitCubicMetre);
    CHECK(reading->settlement.to_string() == "1230.00");
    CHECK(reading->settlement_unit == kUnitCubicMetre);
    REQUIRE(reading->meter_time.has_value());
    CHECK(*reading->meter_time == ecmgw::dlt645::DateTime{2026, 11, 24, 12, 34, 56, 2});
    CHECK(reading->status.valve == MeterStatus::Valve::Open);
    CHECK_FALSE(reading->status.battery_low);
    CHECK(reading->status.raw == 0);
    auto m3 = to_cubic_metres(reading->current, reading->current_unit);
    REQUIRE(m3.has_value());
    CHECK(m3->to_string() == "1234.50");
}

TEST_CASE("worked valve answer says the valve is closed") {
    auto status = decode_valve_answer(scan_one(kValveClosed), kMeter, 0x02);
    REQUIRE(status.has_value());
    CHECK(status->valve == MeterStatus::Valve::Closed);
    CHECK_FALSE(status->battery_low);
    CHECK(status->raw == 0x0001);
}

TEST_CASE("a read-address answer gives the meter's address with T 10 or AA") {
    auto a = decode_read_address_answer(scan_one(kAddressAnswer));
    REQUIRE(a.has_value());
    CHECK(*a == kMeter);
    CHECK(a->to_string() == "12345678901234");

    Frame any = scan_one(kAddressAnswer);
    any.type = 0xAA;
    auto b = decode_read_address_answer(scan_one(encode_frame(any, 2)));
    REQUIRE(b.has_value());
    CHECK(*b == kMeter);
}

TEST_CASE("a read-address answer that repeats the address must repeat the same one") {
    Frame f = scan_one(kAddressAnswer);
    f.data = concat({f.data, Bytes(kMeter.wire.begin(), kMeter.wire.end())});
    auto same = decode_read_address_answer(f);
    REQUIRE(same.has_value());
    CHECK(*same == kMeter);
    f.data = concat({hex("0A 81 05"), Bytes(kOther.wire.begin(), kOther.wire.end())});
    auto other = decode_read_address_answer(f);
    REQUIRE_FALSE(other.has_value());
    CHECK(other.error().kind == AnswerErrorKind::Malformed);
}

TEST_CASE("a read-address answer from the wildcard or of another DI is refused") {
    Frame wild = scan_one(kAddressAnswer);
    wild.address = Address::wildcard();
    auto a = decode_read_address_answer(wild);
    REQUIRE_FALSE(a.has_value());
    CHECK(a.error().kind == AnswerErrorKind::Malformed);

    Frame di = scan_one(kAddressAnswer);
    di.data = hex("1F 90 05");
    auto b = decode_read_address_answer(di);
    REQUIRE_FALSE(b.has_value());
    CHECK(b.error().kind == AnswerErrorKind::WrongDataId);

    auto request = decode_read_address_answer(scan_one(kReadAddress));
    REQUIRE_FALSE(request.has_value());
    CHECK(request.error().kind == AnswerErrorKind::WrongFunction);
}

// --- answer checks ---------------------------------------------------------------

TEST_CASE("an answer from another meter is WrongAddress unless read by wildcard") {
    auto r = decode_read_data_answer(scan_one(kAnswerData), kOther, 0x01);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().kind == AnswerErrorKind::WrongAddress);
    CHECK(r.error().message == "answer from meter 12345678901234, asked meter 00000000000001");
    CHECK(decode_read_data_answer(scan_one(kAnswerData), Address::wildcard(), 0x01).has_value());
    auto valve = decode_valve_answer(scan_one(kValveClosed), kOther, 0x02);
    REQUIRE_FALSE(valve.has_value());
    CHECK(valve.error().kind == AnswerErrorKind::WrongAddress);
}

TEST_CASE("an answer with another SER is WrongSerial") {
    auto r = decode_read_data_answer(scan_one(kAnswerData), kMeter, 0x02);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().kind == AnswerErrorKind::WrongSerial);
    CHECK(r.error().message == "answer with SER 1, asked with SER 2");
    auto valve = decode_valve_answer(scan_one(kValveClosed), kMeter, 0x03);
    REQUIRE_FALSE(valve.has_value());
    CHECK(valve.error().kind == AnswerErrorKind::WrongSerial);
}

TEST_CASE("an answer to another function is WrongFunction") {
    auto valve_as_read = decode_read_data_answer(scan_one(kValveClosed), kMeter, 0x02);
    REQUIRE_FALSE(valve_as_read.has_value());
    CHECK(valve_as_read.error().kind == AnswerErrorKind::WrongFunction);
    CHECK(valve_as_read.error().message == "answer with control 0x84, expected function 0x01");
    auto read_as_valve = decode_valve_answer(scan_one(kAnswerData), kMeter, 0x01);
    REQUIRE_FALSE(read_as_valve.has_value());
    CHECK(read_as_valve.error().kind == AnswerErrorKind::WrongFunction);
}

TEST_CASE("our own request echoed back is not an answer") {
    auto r = decode_read_data_answer(scan_one(kReadData), kMeter, 0x01);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().kind == AnswerErrorKind::WrongFunction);
    CHECK(r.error().message.find("request") != std::string::npos);
    auto v = decode_valve_answer(scan_one(kCloseValve), kMeter, 0x02);
    REQUIRE_FALSE(v.has_value());
    CHECK(v.error().kind == AnswerErrorKind::WrongFunction);
}

TEST_CASE("an answer for another DI is WrongDataId") {
    auto r = decode_read_data_answer(answer_with(0, hex("2F 90")), kMeter, 0x01);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().kind == AnswerErrorKind::WrongDataId);
    CHECK(r.error().message == "answer for DI 902F, asked DI 901F");
    Frame valve = scan_one(kValveClosed);
    valve.data[0] = 0x18;
    auto v = decode_valve_answer(valve, kMeter, 0x02);
    REQUIRE_FALSE(v.has_value());
    CHECK(v.error().kind == AnswerErrorKind::WrongDataId);
}

TEST_CASE("a heat meter's 901F answer is WrongMeterType") {
    for (std::uint8_t type : {std::uint8_t{0x20}, std::uint8_t{0x21}, std::uint8_t{0x29}}) {
        CAPTURE(type);
        auto r = decode_read_data_answer(answer_with(0, {}, type), kMeter, 0x01);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().kind == AnswerErrorKind::WrongMeterType);
    }
    for (std::uint8_t type : {std::uint8_t{0x11}, std::uint8_t{0x13}, std::uint8_t{0x30},
                              std::uint8_t{0x40}, std::uint8_t{0xAA}}) {
        CAPTURE(type);
        CHECK(decode_read_data_answer(answer_with(0, {}, type), kMeter, 0x01).has_value());
    }
}

TEST_CASE("a short read answer is Malformed and vendor bytes after ST are ignored") {
    Frame f = scan_one(kAnswerData);
    f.data.pop_back();
    auto short_answer = decode_read_data_answer(f, kMeter, 0x01);
    REQUIRE_FALSE(short_answer.has_value());
    CHECK(short_answer.error().kind == AnswerErrorKind::Malformed);
    CHECK(short_answer.error().message == "read-data answer has 21 data bytes, expected 22");

    auto header_only = decode_read_data_answer(Frame{0x10, kMeter, 0x81, hex("1F 90")}, kMeter, 1);
    REQUIRE_FALSE(header_only.has_value());
    CHECK(header_only.error().kind == AnswerErrorKind::Malformed);

    Frame longer = scan_one(kAnswerData);
    longer.data.insert(longer.data.end(), {0x12, 0x34});
    auto reading = decode_read_data_answer(longer, kMeter, 0x01);
    REQUIRE(reading.has_value());
    CHECK(reading->current.to_string() == "1234.50");

    Frame valve = scan_one(kValveClosed);
    valve.data.pop_back();
    auto v = decode_valve_answer(valve, kMeter, 0x02);
    REQUIRE_FALSE(v.has_value());
    CHECK(v.error().kind == AnswerErrorKind::Malformed);
}

TEST_CASE("flow digits that are not BCD are Malformed and named") {
    auto current = decode_read_data_answer(answer_with(4, hex("3A")), kMeter, 0x01);
    REQUIRE_FALSE(current.has_value());
    CHECK(current.error().kind == AnswerErrorKind::Malformed);
    CHECK(current.error().message == "current flow: byte 1 is 0x3A: not BCD");
    auto settlement = decode_read_data_answer(answer_with(11, hex("F0")), kMeter, 0x01);
    REQUIRE_FALSE(settlement.has_value());
    CHECK(settlement.error().message == "settlement flow: byte 3 is 0xF0: not BCD");
}

TEST_CASE("time bytes that are not a valid date leave meter_time empty") {
    for (const char* time :
         {"00 00 00 00 00 00 00", "FF FF FF FF FF FF FF", "00 00 00 30 02 26 20",
          "00 00 24 24 11 26 20", "00 60 12 24 11 26 20", "00 00 12 24 13 26 20",
          "00 00 12 24 11 99 19", "00 00 12 24 11 00 21", "00 00 12 2A 11 26 20"}) {
        CAPTURE(time);
        auto reading = decode_read_data_answer(answer_with(13, hex(time)), kMeter, 0x01);
        REQUIRE(reading.has_value());
        CHECK_FALSE(reading->meter_time.has_value());
        CHECK(reading->current.to_string() == "1234.50");
    }
    auto leap = decode_read_data_answer(answer_with(13, hex("00 00 00 29 02 28 20")), kMeter, 1);
    REQUIRE(leap.has_value());
    REQUIRE(leap->meter_time.has_value());
    CHECK(leap->meter_time->weekday == 2);  // 2028-02-29 is a Tuesday
    auto y2k = decode_read_data_answer(answer_with(13, hex("00 00 00 01 01 00 20")), kMeter, 1);
    REQUIRE(y2k.has_value());
    REQUIRE(y2k->meter_time.has_value());
    CHECK(y2k->meter_time->year == 2000);
    CHECK(y2k->meter_time->weekday == 6);  // 2000-01-01 was a Saturday
}

TEST_CASE("the status word of a read answer is decoded") {
    auto reading = decode_read_data_answer(answer_with(20, hex("07 80")), kMeter, 0x01);
    REQUIRE(reading.has_value());
    CHECK(reading->status.valve == MeterStatus::Valve::Abnormal);
    CHECK(reading->status.battery_low);
    CHECK(reading->status.raw == 0x8007);
}

TEST_CASE("litre readings convert to cubic metres exactly") {
    auto reading = decode_read_data_answer(answer_with(7, hex("29")), kMeter, 0x01);
    REQUIRE(reading.has_value());
    CHECK(reading->current_unit == kUnitLitre);
    auto m3 = to_cubic_metres(reading->current, reading->current_unit);
    REQUIRE(m3.has_value());
    CHECK(m3->to_string() == "1.23450");
}

// --- abnormal answers ------------------------------------------------------------

TEST_CASE("an abnormal read answer carries SER and ST") {
    auto r = decode_read_data_answer(scan_one(kAbnormalRead), kMeter, 0x01);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().kind == AnswerErrorKind::Abnormal);
    CHECK(r.error().error_word == 0x03);
    CHECK(r.error().message == "meter reports an error: status 0x0003 (valve abnormal)");

    auto late = decode_read_data_answer(scan_one(kAbnormalRead), kMeter, 0x07);
    REQUIRE_FALSE(late.has_value());
    CHECK(late.error().kind == AnswerErrorKind::WrongSerial);
}

TEST_CASE("an abnormal valve answer C4 is Abnormal") {
    const Frame c4{0x10, kMeter, 0xC4, hex("02 05 00")};
    auto r = decode_valve_answer(c4, kMeter, 0x02);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().kind == AnswerErrorKind::Abnormal);
    CHECK(r.error().error_word == 0x05);
    CHECK(r.error().message == "meter reports an error: status 0x0005 (valve closed, battery low)");
}

TEST_CASE("an abnormal answer with a lone error byte or none") {
    auto lone = decode_valve_answer(Frame{0x10, kMeter, 0xC4, hex("04")}, kMeter, 0x02);
    REQUIRE_FALSE(lone.has_value());
    CHECK(lone.error().kind == AnswerErrorKind::Abnormal);
    CHECK(lone.error().error_word == 0x04);
    CHECK(lone.error().message ==
          "meter reports an error: abnormal answer (control 0xC4) with error byte 0x04");
    auto none = decode_valve_answer(Frame{0x10, kMeter, 0xC4, {}}, kMeter, 0x02);
    REQUIRE_FALSE(none.has_value());
    CHECK(none.error().kind == AnswerErrorKind::Malformed);
    auto address = decode_read_address_answer(Frame{0x10, kMeter, 0xC3, hex("09 00 00")});
    REQUIRE_FALSE(address.has_value());
    CHECK(address.error().kind == AnswerErrorKind::Abnormal);
}

TEST_CASE("describe_answer_error_kind names every kind differently") {
    const AnswerErrorKind kinds[] = {
        AnswerErrorKind::WrongAddress,  AnswerErrorKind::WrongMeterType,
        AnswerErrorKind::WrongFunction, AnswerErrorKind::WrongDataId,
        AnswerErrorKind::WrongSerial,   AnswerErrorKind::Malformed,
        AnswerErrorKind::Abnormal};
    std::vector<std::string_view> names;
    for (AnswerErrorKind kind : kinds) {
        const std::string_view name = describe_answer_error_kind(kind);
        CHECK_FALSE(name.empty());
        for (std::string_view other : names) CHECK(other != name);
        names.push_back(name);
    }
}

// --- status and units ------------------------------------------------------------

TEST_CASE("decode_status reads the valve bits and the battery bit") {
    CHECK(decode_status(0x0000).valve == MeterStatus::Valve::Open);
    CHECK(decode_status(0x0001).valve == MeterStatus::Valve::Closed);
    CHECK(decode_status(0x0002).valve == MeterStatus::Valve::Unknown);
    CHECK(decode_status(0x0003).valve == MeterStatus::Valve::Abnormal);
    CHECK_FALSE(decode_status(0x0003).battery_low);
    CHECK(decode_status(0x0004).battery_low);
    CHECK(decode_status(0xFF00).valve == MeterStatus::Valve::Open);
    CHECK_FALSE(decode_status(0xFF00).battery_low);
    CHECK(decode_status(0xFF00).raw == 0xFF00);
    CHECK(valve_name(MeterStatus::Valve::Open) == "open");
    CHECK(valve_name(MeterStatus::Valve::Closed) == "closed");
    CHECK(valve_name(MeterStatus::Valve::Abnormal) == "abnormal");
    CHECK(valve_name(MeterStatus::Valve::Unknown) == "unknown");
}

TEST_CASE("unit_name knows the volume and energy units") {
    CHECK(unit_name(0x2C) == "m³");
    CHECK(unit_name(0x29) == "L");
    CHECK(unit_name(0x05) == "kWh");
    CHECK(unit_name(0x35) == "m³/h");
    CHECK(unit_name(0x00) == "unknown");
    CHECK(unit_name(0xFF) == "unknown");
}

TEST_CASE("to_cubic_metres keeps m3 and moves the point for litres") {
    auto same = to_cubic_metres(Decimal{123450, 2}, 0x2C);
    REQUIRE(same.has_value());
    CHECK(same->mantissa == 123450);
    CHECK(same->scale == 2);
    auto litres = to_cubic_metres(Decimal{1234, 0}, 0x29);
    REQUIRE(litres.has_value());
    CHECK(litres->to_string() == "1.234");
    CHECK(*litres == Decimal{1234, 3});
    auto negative = to_cubic_metres(Decimal{-5, 1}, 0x29);
    REQUIRE(negative.has_value());
    CHECK(negative->to_string() == "-0.0005");
}

TEST_CASE("to_cubic_metres refuses other units and names the code in hex") {
    auto kwh = to_cubic_metres(Decimal{100, 2}, 0x05);
    REQUIRE_FALSE(kwh.has_value());
    CHECK(kwh.error().message == "unit 0x05 (kWh) is not a volume: expected 0x2C (m³) or 0x29 (L)");
    auto odd = to_cubic_metres(Decimal{100, 2}, 0xFE);
    REQUIRE_FALSE(odd.has_value());
    CHECK(odd.error().message.find("0xFE (unknown)") != std::string::npos);
    CHECK_FALSE(to_cubic_metres(Decimal{1, 253}, 0x29).has_value());
    CHECK(to_cubic_metres(Decimal{1, 252}, 0x29).has_value());
}

// --- scanning a byte stream ------------------------------------------------------

TEST_CASE("scan skips wake-up bytes and a CS of 16 does not end the frame early") {
    REQUIRE(kReadData[kReadData.size() - 2] == 0x16);
    auto r = scan(kReadData);
    REQUIRE(r.status == ScanStatus::Complete);
    CHECK(r.skipped == 2);
    CHECK(r.length == 16);
    CHECK(r.frame.data == hex("1F 90 01"));
}

TEST_CASE("scan of empty input or noise without 68 drops it all") {
    auto empty = scan(Bytes{});
    CHECK(empty.status == ScanStatus::NoFrame);
    CHECK(empty.skipped == 0);
    const Bytes noise = hex("FE FE 00 16 16 FF 12 34");
    auto r = scan(noise);
    CHECK(r.status == ScanStatus::NoFrame);
    CHECK(r.skipped == noise.size());
    CHECK(r.checksum_errors == 0);
}

TEST_CASE("scan fed one byte more at a time is Incomplete until the last byte") {
    for (std::size_t n = 1; n < kAnswerData.size(); ++n) {
        CAPTURE(n);
        auto r = scan(ByteView(kAnswerData).first(n));
        CHECK(r.status == ScanStatus::Incomplete);
        CHECK(r.skipped == 0);
    }
    CHECK(scan(kAnswerData).status == ScanStatus::Complete);
}

TEST_CASE("a truncated frame after wake-up bytes is Incomplete at its 68") {
    const Bytes cut(kReadData.begin(), kReadData.end() - 3);
    auto r = scan(cut);
    CHECK(r.status == ScanStatus::Incomplete);
    CHECK(r.skipped == 2);
}

TEST_CASE("concatenated frames with noise are all found however the bytes arrive") {
    Bytes bad = kValveClosed;
    bad[13] ^= 0x01;  // SER flipped on the line
    const Bytes stream = concat({kReadData, hex("FE FE"), kAnswerData, hex("00 FF 13"), bad,
                                 hex("FE FE FE FE"), kValveClosed, kAddressAnswer});
    for (std::size_t chunk : {1U, 2U, 3U, 7U, 16U, 200U}) {
        CAPTURE(chunk);
        std::size_t errors = 0;
        const auto frames = feed_in_chunks(stream, chunk, &errors);
        REQUIRE(frames.size() == 4);
        CHECK(errors == 1);
        CHECK(frames[0].control == 0x01);
        CHECK(decode_read_data_answer(frames[1], kMeter, 0x01).has_value());
        CHECK(decode_valve_answer(frames[2], kMeter, 0x02).has_value());
        CHECK(decode_read_address_answer(frames[3]).has_value());
    }
}

TEST_CASE("a bad checksum alone is dropped and counted") {
    Bytes bad = kAnswerData;
    bad[bad.size() - 2] ^= 0x01;
    auto r = scan(bad);
    CHECK(r.status == ScanStatus::NoFrame);
    CHECK(r.skipped == bad.size());
    CHECK(r.checksum_errors == 1);
}

TEST_CASE("a bad checksum is counted and the following good frame is found") {
    Bytes bad = kAnswerData;
    bad[20] ^= 0x10;
    auto r = scan(concat({bad, hex("FE FE"), kValveClosed}));
    REQUIRE(r.status == ScanStatus::Complete);
    CHECK(r.checksum_errors == 1);
    CHECK(r.skipped == bad.size() + 2);
    CHECK(r.frame.control == 0x84);
}

TEST_CASE("a wrong end byte counts as a checksum error") {
    Bytes bad = kValveClosed;
    bad[bad.size() - 1] = 0x17;
    auto r = scan(concat({bad, kValveClosed}));
    REQUIRE(r.status == ScanStatus::Complete);
    CHECK(r.checksum_errors == 1);
    CHECK(r.skipped == bad.size());
}

TEST_CASE("a fake header in noise claiming a long frame does not hide a real frame") {
    // 68 T A0..A6 C L=0x60 promises 109 bytes; a real answer arrives inside that span.
    const Bytes fake = hex("68 10 11 22 33 44 55 66 77 81 60");
    auto r = scan(concat({fake, kValveClosed}));
    REQUIRE(r.status == ScanStatus::Complete);
    CHECK(r.skipped == fake.size());
    CHECK(r.frame.control == 0x84);
}

TEST_CASE("L above 100 is not a frame but L of 100 is") {
    auto frame_with_length = [](std::size_t length) {
        Bytes b = hex("68 10 34 12 90 78 56 34 12 81");
        b.push_back(static_cast<std::uint8_t>(length));
        b.insert(b.end(), length, 0x00);
        unsigned sum = 0;
        for (auto x : b) sum += x;
        b.push_back(static_cast<std::uint8_t>(sum));
        b.push_back(0x16);
        return b;
    };
    const Bytes too_long = frame_with_length(101);
    auto r = scan(too_long);
    CHECK(r.status == ScanStatus::NoFrame);
    CHECK(r.skipped == too_long.size());
    CHECK(scan(ByteView(too_long).first(11)).status == ScanStatus::NoFrame);
    auto ok = scan(frame_with_length(100));
    REQUIRE(ok.status == ScanStatus::Complete);
    CHECK(ok.frame.data.size() == 100);
}

TEST_CASE("68 and 16 inside DATA do not split the frame") {
    const Frame sent{0x10, kMeter, 0x81, hex("1F 90 01 68 16 68 16 16")};
    const Bytes wire = encode_frame(sent, 0);
    auto r = scan(wire);
    REQUIRE(r.status == ScanStatus::Complete);
    CHECK(r.length == wire.size());
    CHECK(r.frame == sent);
    for (std::size_t n = 1; n < wire.size(); ++n) {
        CAPTURE(n);
        CHECK(scan(ByteView(wire).first(n)).status == ScanStatus::Incomplete);
    }
}

TEST_CASE("Incomplete counts only the checksum errors before the partial frame") {
    Bytes bad = kValveClosed;
    bad[bad.size() - 2] ^= 0xFF;
    const Bytes partial(kValveClosed.begin(), kValveClosed.begin() + 5);
    auto r = scan(concat({bad, partial}));
    CHECK(r.status == ScanStatus::Incomplete);
    CHECK(r.skipped == bad.size());
    CHECK(r.checksum_errors == 1);

    std::size_t errors = 0;
    const auto frames = feed_in_chunks(concat({bad, kValveClosed, bad}), 1, &errors);
    CHECK(frames.size() == 1);
    CHECK(errors == 2);
}
