// The simulated CJ/T 188 cold-water meter against the worked frames of
// shared/protocols.md, and its volume that stops while the valve is closed.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include "ecmgw/protocols/cjt188.hpp"
#include "sim/cjt188_meter.hpp"
#include "sim/sim_clock.hpp"

using namespace ecmgw;
using cjt188::Address;
using cjt188::Bytes;
using cjt188::Frame;
using sim::Cjt188Meter;
using sim::Cjt188Spec;

namespace {

const Address kMeter{{0x34, 0x12, 0x90, 0x78, 0x56, 0x34, 0x12}};  // 12345678901234
constexpr std::int64_t kHour = 3'600'000;
const std::int64_t kT0 = sim::from_datetime({2026, 11, 24, 12, 34, 56, 2});

// The meter of the worked frames: 1234.50 m³, settlement 1230.00 m³, valve open.
Cjt188Meter worked_meter(std::int64_t flow_lph = 500) {
    Cjt188Spec spec;
    spec.address = kMeter;
    spec.initial_litres = 1'234'500;
    spec.settlement_litres = 1'230'000;
    spec.flow_lph = flow_lph;
    Cjt188Meter meter(spec);
    meter.advance_to(kT0);
    return meter;
}

Frame request(const Bytes& wire) {
    const auto scanned = cjt188::scan(wire);
    REQUIRE(scanned.status == cjt188::ScanStatus::Complete);
    return scanned.frame;
}

Bytes answer_bytes(Cjt188Meter& meter, const Bytes& wire) {
    const auto answer = meter.answer(request(wire));
    REQUIRE(answer.has_value());
    return cjt188::encode_frame(answer->frame, 0);
}

cjt188::FlowReading read(Cjt188Meter& meter, std::uint8_t ser) {
    const auto wire = cjt188::encode_read_data(cjt188::MeterType::ColdWater, kMeter, ser);
    const auto answer = meter.answer(request(wire));
    REQUIRE(answer.has_value());
    const auto back = cjt188::scan(cjt188::encode_frame(answer->frame));
    REQUIRE(back.status == cjt188::ScanStatus::Complete);
    auto reading = cjt188::decode_read_data_answer(back.frame, kMeter, ser);
    REQUIRE_MESSAGE(reading.has_value(), (reading ? std::string() : reading.error().message));
    return *reading;
}

void switch_valve(Cjt188Meter& meter, bool open, std::uint8_t ser) {
    const auto wire = cjt188::encode_valve(cjt188::MeterType::ColdWater, kMeter, ser, open);
    const auto answer = meter.answer(request(wire));
    REQUIRE(answer.has_value());
    const auto status = cjt188::decode_valve_answer(answer->frame, kMeter, ser);
    REQUIRE(status.has_value());
    CHECK(status->valve ==
          (open ? cjt188::MeterStatus::Valve::Open : cjt188::MeterStatus::Valve::Closed));
}

}  // namespace

TEST_CASE("cjt188 meter answers read data exactly as the worked frame") {
    auto meter = worked_meter();
    // read 901F: FE FE 68 10 34 12 90 78 56 34 12 01 03 1F 90 01 16 16
    const Bytes read_request{0xFE, 0xFE, 0x68, 0x10, 0x34, 0x12, 0x90, 0x78, 0x56,
                             0x34, 0x12, 0x01, 0x03, 0x1F, 0x90, 0x01, 0x16, 0x16};
    const Bytes worked_answer{0x68, 0x10, 0x34, 0x12, 0x90, 0x78, 0x56, 0x34, 0x12,
                              0x81, 0x16, 0x1F, 0x90, 0x01, 0x50, 0x34, 0x12, 0x00,
                              0x2C, 0x00, 0x30, 0x12, 0x00, 0x2C, 0x56, 0x34, 0x12,
                              0x24, 0x11, 0x26, 0x20, 0x00, 0x00, 0xF0, 0x16};
    CHECK(answer_bytes(meter, read_request) == worked_answer);

    const auto answer = meter.answer(request(read_request));
    REQUIRE(answer.has_value());
    CHECK(answer->values == std::vector<sim::AnsweredValue>{{"volume_m3", "1234.50"},
                                                            {"settlement_volume_m3", "1230.00"},
                                                            {"valve_state", "1"},
                                                            {"battery_low", "0"}});
}

TEST_CASE("cjt188 meter answers close valve exactly as the worked frame") {
    auto meter = worked_meter();
    // close valve: 68 10 34 12 90 78 56 34 12 04 04 17 A0 02 99 BC 16
    const Bytes close{0x68, 0x10, 0x34, 0x12, 0x90, 0x78, 0x56, 0x34, 0x12,
                      0x04, 0x04, 0x17, 0xA0, 0x02, 0x99, 0xBC, 0x16};
    const Bytes worked_answer{0x68, 0x10, 0x34, 0x12, 0x90, 0x78, 0x56, 0x34, 0x12,
                              0x84, 0x05, 0x17, 0xA0, 0x02, 0x01, 0x00, 0xA5, 0x16};
    CHECK(answer_bytes(meter, close) == worked_answer);
    CHECK_FALSE(meter.valve_open());
}

TEST_CASE("cjt188 meter volume accrues at its flow only while the valve is open") {
    auto meter = worked_meter(600);  // 0.6 m³/h
    meter.advance_to(kT0 + kHour);
    CHECK(meter.litres() == 1'235'100);
    CHECK(read(meter, 1).current == Decimal{123510, 2});

    switch_valve(meter, false, 2);
    meter.advance_to(kT0 + 3 * kHour);
    const auto closed = read(meter, 3);
    CHECK(closed.current == Decimal{123510, 2});
    CHECK(closed.status.valve == cjt188::MeterStatus::Valve::Closed);
    CHECK(meter.litres() == 1'235'100);

    switch_valve(meter, true, 4);
    meter.advance_to(kT0 + 4 * kHour);
    const auto open = read(meter, 5);
    CHECK(open.current == Decimal{123570, 2});
    CHECK(open.status.valve == cjt188::MeterStatus::Valve::Open);
    CHECK(open.settlement == Decimal{123000, 2});
    CHECK(open.current_unit == cjt188::kUnitCubicMetre);
    REQUIRE(open.meter_time.has_value());
    CHECK(open.meter_time->hour == 16);
}

TEST_CASE("cjt188 meter answers read address on the wildcard with its address") {
    auto meter = worked_meter();
    const auto answer = meter.answer(request(cjt188::encode_read_address(7)));
    REQUIRE(answer.has_value());
    CHECK(answer->frame.control == 0x83);
    const auto address = cjt188::decode_read_address_answer(answer->frame);
    REQUIRE(address.has_value());
    CHECK(*address == kMeter);
}

TEST_CASE("cjt188 meter reports a low battery in ST") {
    Cjt188Spec spec;
    spec.address = kMeter;
    spec.battery_low = true;
    Cjt188Meter meter(spec);
    meter.advance_to(kT0);
    const auto reading = read(meter, 9);
    CHECK(reading.status.battery_low);
    CHECK(reading.status.valve == cjt188::MeterStatus::Valve::Open);
}

TEST_CASE("cjt188 meter refuses unknown DIs and valve commands, ignores other types") {
    auto meter = worked_meter();
    const auto unknown = meter.answer(Frame{0x10, kMeter, 0x01, {0x34, 0x12, 0x05}});
    REQUIRE(unknown.has_value());
    CHECK(unknown->frame.control == 0xC1);
    CHECK(unknown->frame.data == Bytes{0x05, 0x00, 0x00});  // SER ST

    const auto bad_valve = meter.answer(Frame{0x10, kMeter, 0x04, {0x17, 0xA0, 0x06, 0x42}});
    REQUIRE(bad_valve.has_value());
    CHECK(bad_valve->frame.control == 0xC4);
    CHECK(meter.valve_open());

    CHECK_FALSE(meter.answer(Frame{0x30, kMeter, 0x01, {0x1F, 0x90, 0x01}}).has_value());
    CHECK(meter.answer(Frame{0xAA, kMeter, 0x01, {0x1F, 0x90, 0x01}}).has_value());
    CHECK_FALSE(meter.answer(Frame{0x10, kMeter, 0x81, {0x1F, 0x90, 0x01}}).has_value());
    CHECK_FALSE(meter.answer(Frame{0x10, kMeter, 0x01, {0x1F, 0x90}}).has_value());
}
