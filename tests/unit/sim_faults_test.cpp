// Fault specs from the command line, the seeded dice, and the byte surgery that makes an
// answer corrupt (the receiver's scanner counts a checksum error) or misaddressed.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include "ecmgw/protocols/cjt188.hpp"
#include "ecmgw/protocols/dlt645.hpp"
#include "sim/faults.hpp"
#include "sim/modbus_rtu.hpp"

using namespace ecmgw;
using dlt645::Bytes;
using sim::FaultDice;
using sim::FaultSpec;
using sim::WireFormat;

namespace {

// 68 01 00 00 00 00 00 68 91 08 33 33 33 33 78 56 34 33 6B 16: 000123.45 kWh.
const Bytes kDltAnswer{0xFE, 0xFE, 0x68, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x68, 0x91,
                       0x08, 0x33, 0x33, 0x33, 0x33, 0x78, 0x56, 0x34, 0x33, 0x6B, 0x16};
// The valve answer of shared/protocols.md.
const Bytes kCjtAnswer{0xFE, 0x68, 0x10, 0x34, 0x12, 0x90, 0x78, 0x56, 0x34, 0x12,
                       0x84, 0x05, 0x17, 0xA0, 0x02, 0x01, 0x00, 0xA5, 0x16};

Bytes with_crc(Bytes b) {
    const auto crc = sim::crc16(b);
    b.push_back(static_cast<std::uint8_t>(crc));
    b.push_back(static_cast<std::uint8_t>(crc >> 8));
    return b;
}

bool crc_ok(const Bytes& b) {
    const auto crc = sim::crc16(dlt645::ByteView(b).first(b.size() - 2));
    return b[b.size() - 2] == static_cast<std::uint8_t>(crc) &&
           b.back() == static_cast<std::uint8_t>(crc >> 8);
}

}  // namespace

TEST_CASE("fault rules parse from METER:KIND[=VALUE]") {
    auto dead = sim::parse_fault("000000000009:dead");
    REQUIRE(dead.has_value());
    CHECK(dead->meter == "000000000009");
    CHECK(dead->kind == "dead");

    auto drop = sim::parse_fault("E-0001:drop=0.25");
    REQUIRE(drop.has_value());
    CHECK(drop->meter == "E-0001");
    CHECK(drop->value == doctest::Approx(0.25));

    FaultSpec spec;
    for (const char* text : {"*:corrupt=1", "3:wrong-address=0.5", "3:delay=400", "3:drop=1.0"}) {
        auto rule = sim::parse_fault(text);
        REQUIRE_MESSAGE(rule.has_value(), text);
        sim::apply(*rule, spec);
    }
    CHECK(spec.corrupt == 1.0);
    CHECK(spec.wrong_address == 0.5);
    CHECK(spec.drop == 1.0);
    CHECK(spec.delay_ms == 400);
    CHECK_FALSE(spec.dead);
}

TEST_CASE("fault rules refuse what they cannot mean") {
    for (const char* text : {"dead", ":dead", "E-1:dead=1", "E-1:drop", "E-1:drop=1.5",
                             "E-1:drop=x", "E-1:corrupt=-0.1", "E-1:delay=-5", "E-1:slow"}) {
        CAPTURE(text);
        CHECK_FALSE(sim::parse_fault(text).has_value());
    }
    const auto unknown = sim::parse_fault("E-1:slow");
    CHECK(unknown.error().message.find("dead, drop=P") != std::string::npos);
}

TEST_CASE("fault dice: certain, never, and repeatable with the seed") {
    FaultSpec always;
    always.drop = 1.0;
    FaultSpec never;
    FaultDice dice(1, 0);
    for (int i = 0; i < 100; ++i) {
        CHECK(dice.roll(always).drop);
        CHECK_FALSE(dice.roll(never).drop);
    }

    FaultSpec half;
    half.corrupt = 0.5;
    FaultDice a(7, 2), b(7, 2), other(7, 3);
    int hits = 0, same = 0, differs = 0;
    for (int i = 0; i < 1000; ++i) {
        const bool x = a.roll(half).corrupt;
        same += x == b.roll(half).corrupt ? 1 : 0;
        differs += x != other.roll(half).corrupt ? 1 : 0;
        hits += x ? 1 : 0;
    }
    CHECK(same == 1000);
    CHECK(differs > 0);
    CHECK(hits > 400);
    CHECK(hits < 600);
}

TEST_CASE("a corrupt DL/T 645 answer keeps its structure and fails its checksum") {
    for (std::size_t pick = 0; pick < 40; ++pick) {
        CAPTURE(pick);
        Bytes b = kDltAnswer;
        sim::corrupt_frame(b, 2, WireFormat::Dlt645, pick);
        CHECK(b != kDltAnswer);
        const auto r = dlt645::scan(b);
        CHECK(r.status != dlt645::ScanStatus::Complete);
        CHECK(r.checksum_errors >= 1);
    }
}

TEST_CASE("a corrupt CJ/T 188 answer keeps its structure and fails its checksum") {
    for (std::size_t pick = 0; pick < 40; ++pick) {
        CAPTURE(pick);
        Bytes b = kCjtAnswer;
        sim::corrupt_frame(b, 1, WireFormat::Cjt188, pick);
        const auto r = cjt188::scan(b);
        CHECK(r.status != cjt188::ScanStatus::Complete);
        CHECK(r.checksum_errors >= 1);
    }
}

TEST_CASE("a corrupt Modbus answer keeps unit, function and byte count, and fails its CRC") {
    const Bytes read = with_crc({0x03, 0x04, 0x04, 0x43, 0x66, 0x19, 0x9A});
    for (std::size_t pick = 0; pick < 20; ++pick) {
        Bytes b = read;
        sim::corrupt_frame(b, 0, WireFormat::ModbusRtu, pick);
        CHECK(b != read);
        CHECK(std::equal(b.begin(), b.begin() + 3, read.begin()));
        CHECK_FALSE(crc_ok(b));
    }
}

TEST_CASE("a misaddressed answer is a valid frame from the neighbouring address") {
    Bytes dlt = kDltAnswer;
    sim::readdress_frame(dlt, 2, WireFormat::Dlt645);
    const auto d = dlt645::scan(dlt);
    REQUIRE(d.status == dlt645::ScanStatus::Complete);
    CHECK(d.frame.address.to_string() == "000000000002");
    CHECK(d.frame.data == dlt645::scan(kDltAnswer).frame.data);

    Bytes cjt = kCjtAnswer;
    sim::readdress_frame(cjt, 1, WireFormat::Cjt188);
    const auto c = cjt188::scan(cjt);
    REQUIRE(c.status == cjt188::ScanStatus::Complete);
    CHECK(c.frame.address.to_string() == "12345678901235");

    Bytes rtu = with_crc({0x03, 0x06, 0x00, 0x1C, 0x00, 0x02});
    sim::readdress_frame(rtu, 0, WireFormat::ModbusRtu);
    CHECK(rtu[0] == 0x04);
    CHECK(crc_ok(rtu));
    Bytes last = with_crc({247, 0x06, 0x00, 0x1C, 0x00, 0x02});
    sim::readdress_frame(last, 0, WireFormat::ModbusRtu);
    CHECK(last[0] == 1);
}
