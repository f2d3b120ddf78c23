// Switching by hand in the simulator (--hand-file): the lines, and what they do to
// each kind of meter.
#include <doctest/doctest.h>

#include "sim/hand_switch.hpp"
#include "sim/sim_meter.hpp"

using namespace ecmgw::sim;

TEST_CASE("hand-switch lines: METER on|off, comments and blanks are nothing") {
    auto on = parse_hand_switch("E-0101 on");
    REQUIRE(on.has_value());
    REQUIRE(on->has_value());
    CHECK((*on)->meter == "E-0101");
    CHECK((*on)->on);
    auto off = parse_hand_switch("  000000000101\toff \r");
    REQUIRE(off.has_value());
    REQUIRE(off->has_value());
    CHECK((*off)->meter == "000000000101");
    CHECK_FALSE((*off)->on);
    CHECK_FALSE(parse_hand_switch("")->has_value());
    CHECK_FALSE(parse_hand_switch("# a comment")->has_value());
    CHECK_FALSE(parse_hand_switch("E-0101").has_value());
    CHECK_FALSE(parse_hand_switch("E-0101 open").has_value());
}

TEST_CASE("hand-switch lines are taken whole; a line still being written waits") {
    const HandLines taken = take_hand_lines("E-1 on\nE-2 off\nE-3 o", 0);
    CHECK(taken.lines == std::vector<std::string>{"E-1 on", "E-2 off"});
    CHECK(taken.next_offset == 15);
    const HandLines rest = take_hand_lines("E-1 on\nE-2 off\nE-3 on\n", taken.next_offset);
    CHECK(rest.lines == std::vector<std::string>{"E-3 on"});
    CHECK(rest.next_offset == 22);
}

TEST_CASE("switching by hand moves a relay or valve; a meter without one says so") {
    MeterModel electricity = SimulatedMeter(MeterSpec{});
    REQUIRE(switch_by_hand(electricity, false));
    CHECK(std::get<SimulatedMeter>(electricity).relay_open());
    REQUIRE(switch_by_hand(electricity, true));
    CHECK_FALSE(std::get<SimulatedMeter>(electricity).relay_open());

    MeterModel water = Cjt188Meter(Cjt188Spec{});
    REQUIRE(switch_by_hand(water, false));
    CHECK_FALSE(std::get<Cjt188Meter>(water).valve_open());

    MeterModel old = Dlt645_1997Meter(Dlt645_1997Spec{});
    CHECK_FALSE(switch_by_hand(old, false));
}
