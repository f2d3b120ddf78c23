// The simulated Modbus meter: the shipped profiles' register maps filled from the model
// (decoded back with the gateway's modbus::decode_point), and the relay or valve switched
// by writes as the gateway's plan_switch sends them.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ecmgw/config/profile.hpp"
#include "ecmgw/protocols/modbus_map.hpp"
#include "sim/modbus_meter.hpp"

using namespace ecmgw;
using modbus::Table;
using sim::ModbusMeter;
using sim::ModbusMeterSpec;

namespace {

constexpr std::int64_t kT0 = 1795566896000;
constexpr std::int64_t kHour = 3'600'000;

config::Profile profile(const std::string& name) {
    const std::string path =
        std::string(ECMGW_TESTDATA) + "/../../config/profiles/" + name + ".toml";
    auto p = config::load_profile(path);
    REQUIRE_MESSAGE(p.has_value(), path);
    return *p;
}

ModbusMeter meter_of(const config::Profile& p, std::int64_t initial_milli, std::int64_t rate) {
    ModbusMeterSpec spec;
    spec.unit = 3;
    spec.points = p.points;
    spec.water = p.kind == "water";
    spec.supply = spec.water ? p.valve : p.relay;
    spec.initial_milli = initial_milli;
    spec.rate = rate;
    spec.voltage_dv = 2301;
    ModbusMeter m(std::move(spec));
    m.advance_to(kT0);
    return m;
}

// What the gateway decodes for `quantity` from the meter's registers now.
Decimal value(const ModbusMeter& meter, const config::Profile& p, std::string_view quantity) {
    const auto* point = p.find_point(quantity);
    REQUIRE(point != nullptr);
    const auto image = meter.image();
    const auto& table = image.table(point->table);
    REQUIRE(point->address >= table.start);
    const std::size_t at = point->address - table.start;
    REQUIRE(at + modbus::width(*point) <= table.values.size());
    if (modbus::is_bit_table(point->table)) {
        auto v = modbus::decode_bit(*point, static_cast<std::uint8_t>(table.values[at]));
        REQUIRE(v.has_value());
        return *v;
    }
    auto v =
        modbus::decode_point(*point, std::span(table.values).subspan(at, modbus::width(*point)));
    REQUIRE_MESSAGE(v.has_value(), (v ? std::string() : v.error().message));
    return *v;
}

// Sends the writes the gateway sends to switch the supply; each must be accepted.
void switch_supply(ModbusMeter& meter, const modbus::SwitchControl& control, bool on) {
    for (const auto& w : modbus::plan_switch(control, on)) {
        REQUIRE_FALSE(meter.refuse_write(w.table, w.address, w.values).has_value());
        meter.apply_write(w.table, w.address, w.values);
    }
}

modbus::SwitchState state(const ModbusMeter& meter, const modbus::SwitchControl& control) {
    REQUIRE(control.state.has_value());
    const auto image = meter.image();
    const auto& table = image.table(control.state->table);
    const auto word = table.values.at(control.state->address - table.start);
    auto s = modbus::is_bit_table(control.state->table)
                 ? modbus::decode_switch_state_bit(control, static_cast<std::uint8_t>(word))
                 : modbus::decode_switch_state(control, std::vector<std::uint16_t>{word});
    REQUIRE(s.has_value());
    return *s;
}

}  // namespace

TEST_CASE("modbus meter serves the SDM120 map: values by quantity name") {
    const auto p = profile("eastron-sdm120");
    const auto meter = meter_of(p, 123'450, 1000);  // 123.45 kWh, 1 kW
    const auto image = meter.image();
    CHECK(image.input.start == 0x0000);
    CHECK(image.input.values.size() == 0x0158 + 2);  // through total reactive energy
    CHECK(image.holding.values.empty());

    CHECK(value(meter, p, "voltage_a_v") == Decimal{2301, 1});
    CHECK(value(meter, p, "current_a_a") == Decimal{4346, 3});  // 1000 W / 230.1 V
    CHECK(value(meter, p, "active_power_kw") == Decimal{1, 0});
    CHECK(value(meter, p, "power_factor") == Decimal{980, 3});
    CHECK(value(meter, p, "frequency_hz") == Decimal{5000, 2});
    CHECK(value(meter, p, "import_energy_kwh") == Decimal{12345, 2});
    CHECK(value(meter, p, "energy_kwh") == Decimal{12345, 2});
    CHECK(value(meter, p, "export_energy_kwh") == Decimal{0, 0});
}

TEST_CASE("modbus meter energy accrues with its load and is refreshed in the image") {
    const auto p = profile("eastron-sdm120");
    auto meter = meter_of(p, 100'000, 2000);
    meter.advance_to(kT0 + kHour / 2);  // 2 kW for half an hour
    CHECK(meter.milli() == 101'000);
    CHECK(value(meter, p, "energy_kwh") == Decimal{10100, 2});
}

TEST_CASE("modbus meter logs the points wholly inside a read") {
    const auto p = profile("eastron-sdm120");
    const auto meter = meter_of(p, 123'450, 1000);
    const auto values = meter.values_in(Table::InputRegister, 0x0000, 8);
    REQUIRE(values.size() == 2);  // voltage (0-1) and current (6-7); power starts at 12
    CHECK(values[0] == sim::AnsweredValue{"voltage_a_v", "230.1"});
    CHECK(values[1].quantity == "current_a_a");
    CHECK(meter.values_in(Table::InputRegister, 0x0001, 2).empty());  // half a float
    CHECK(meter.values_in(Table::HoldingRegister, 0x0000, 8).empty());
}

TEST_CASE("modbus meter without a switch refuses every write") {
    const auto p = profile("eastron-sdm120");
    const auto meter = meter_of(p, 0, 1000);
    const std::vector<std::uint16_t> one{1};
    CHECK(meter.refuse_write(Table::InputRegister, 0, one) == sim::kIllegalDataAddress);
    CHECK(meter.refuse_write(Table::HoldingRegister, 0, one) == sim::kIllegalDataAddress);
}

TEST_CASE("modbus water meter: closing the valve stops the volume, state reads back") {
    const auto p = profile("xintai-water-meter");
    REQUIRE(p.valve.has_value());
    auto meter = meter_of(p, 500'000, 600);  // 500 m³, 0.6 m³/h
    CHECK(value(meter, p, "volume_m3") == Decimal{500, 0});
    CHECK(value(meter, p, "flow_m3h") == Decimal{600, 3});
    CHECK(value(meter, p, "valve_state") == Decimal{1, 0});
    CHECK(state(meter, *p.valve) == modbus::SwitchState::On);

    meter.advance_to(kT0 + kHour);
    CHECK(value(meter, p, "volume_m3") == Decimal{500600, 3});

    switch_supply(meter, *p.valve, false);
    CHECK_FALSE(meter.supply_on());
    CHECK(state(meter, *p.valve) == modbus::SwitchState::Off);
    CHECK(value(meter, p, "valve_state") == Decimal{0, 0});
    CHECK(value(meter, p, "flow_m3h") == Decimal{0, 0});
    CHECK(meter.image().holding.values.at(0x001C - meter.image().holding.start) == 2);
    meter.advance_to(kT0 + 3 * kHour);
    CHECK(value(meter, p, "volume_m3") == Decimal{500600, 3});

    switch_supply(meter, *p.valve, true);
    CHECK(state(meter, *p.valve) == modbus::SwitchState::On);
    meter.advance_to(kT0 + 4 * kHour);
    CHECK(value(meter, p, "volume_m3") == Decimal{501200, 3});
}

TEST_CASE("modbus water meter refuses writes to measured registers and unknown commands") {
    const auto p = profile("xintai-water-meter");
    const auto meter = meter_of(p, 0, 600);
    const std::vector<std::uint16_t> one{1}, three{3};
    CHECK(meter.refuse_write(Table::HoldingRegister, 0x0001, one) == sim::kIllegalDataAddress);
    CHECK(meter.refuse_write(Table::HoldingRegister, 0x001C, three) == sim::kIllegalDataValue);
    CHECK_FALSE(meter.refuse_write(Table::HoldingRegister, 0x001C, one).has_value());
}

TEST_CASE("modbus relay with a prefix (Acrel): the command needs it, consumption stops") {
    const auto p = profile("acrel-ddsy1352");
    REQUIRE(p.relay.has_value());
    auto meter = meter_of(p, 10'000, 1000);
    // The switch word alone is refused: Acrel wants "forced control" in the same write.
    const std::vector<std::uint16_t> off{1};
    CHECK(meter.refuse_write(Table::HoldingRegister, 0x0058, off) == sim::kIllegalDataValue);

    switch_supply(meter, *p.relay, false);
    CHECK_FALSE(meter.supply_on());
    const auto image = meter.image();
    CHECK(image.holding.values.at(0x0058 - image.holding.start) == 1);  // the off value
    CHECK(value(meter, p, "active_power_kw") == Decimal{0, 0});
    CHECK(value(meter, p, "current_a_a") == Decimal{0, 0});
    meter.advance_to(kT0 + kHour);
    CHECK(meter.milli() == 10'000);
    CHECK(value(meter, p, "energy_kwh") == Decimal{1000, 2});

    switch_supply(meter, *p.relay, true);
    meter.advance_to(kT0 + 2 * kHour);
    CHECK(value(meter, p, "energy_kwh") == Decimal{1100, 2});
}

TEST_CASE("modbus relay on a coil with a discrete-input state") {
    modbus::SwitchControl relay;
    relay.table = Table::Coil;
    relay.address = 0x0010;
    relay.on_value = 1;
    relay.off_value = 0;
    modbus::Point state_point;
    state_point.quantity = "relay_state";
    state_point.table = Table::DiscreteInput;
    state_point.address = 0x0020;
    relay.state = state_point;

    ModbusMeterSpec spec;
    spec.points = {state_point};
    spec.supply = relay;
    spec.initial_milli = 0;
    spec.rate = 1000;
    ModbusMeter meter(spec);
    meter.advance_to(kT0);
    CHECK(meter.image().coils.values == std::vector<std::uint16_t>{1});
    CHECK(state(meter, relay) == modbus::SwitchState::On);

    switch_supply(meter, relay, false);
    CHECK(meter.image().coils.values == std::vector<std::uint16_t>{0});
    CHECK(state(meter, relay) == modbus::SwitchState::Off);
    meter.advance_to(kT0 + kHour);
    CHECK(meter.milli() == 0);
}

TEST_CASE("modbus three-phase map (CHINT DTSU666): per-phase values and line voltages") {
    const auto p = profile("chint-dtsu666");
    const auto meter = meter_of(p, 0, 3000);
    CHECK(value(meter, p, "voltage_a_v") == Decimal{2301, 1});
    CHECK(value(meter, p, "voltage_ab_v") == Decimal{3985, 1});  // 230.1 V × √3
    CHECK(value(meter, p, "active_power_kw") == Decimal{3, 0});
    CHECK(value(meter, p, "active_power_a_kw") == Decimal{1, 0});
}
