// Drivers from a parsed config: which meters a bus poller reads, with which
// protocol, line settings and control credentials.
#include <doctest/doctest.h>

#include <string_view>

#include "bus/driver_factory.hpp"
#include "ecmgw/config/config.hpp"

using namespace ecmgw;

namespace {

constexpr std::string_view kConfig = R"(
[gateway]
id = "gw-0001"
timezone = "UTC"

[[bus]]
name = "floor1"
device = "/dev/ttyUSB0"
baud = 2400
parity = "E"

[[bus]]
name = "floor2"
device = "/dev/ttyUSB1"

[[meter]]
id = "E-0101"
bus = "floor1"
protocol = "dlt645-2007"
address = "000000000101"
relay = true
password = "123456"

[[meter]]
id = "E-0102"
bus = "floor1"
protocol = "dlt645-1997"
address = "000000000102"
baud = 1200

[[meter]]
id = "W-0101"
bus = "floor1"
protocol = "cjt188"
address = "12345678901234"
kind = "water"
relay = true

[[meter]]
id = "E-0201"
bus = "floor2"
protocol = "dlt645-2007"
address = "202012345678"
quantities = ["status_word_3", "energy_kwh"]
)";

config::Config parse(std::string_view text) {
    auto cfg = config::parse_config(text, "t.toml");
    if (!cfg) {
        for (const auto& e : cfg.error()) MESSAGE(e.to_string());
    }
    REQUIRE(cfg.has_value());
    return *cfg;
}

}  // namespace

TEST_CASE("a bus gets one driver per meter on it in config order") {
    const auto cfg = parse(kConfig);
    auto drivers = bus::make_bus_drivers(cfg, cfg.buses[0]);
    REQUIRE(drivers.has_value());
    REQUIRE(drivers->size() == 3);
    CHECK((*drivers)[0]->id() == "E-0101");
    CHECK((*drivers)[0]->describe() == "dlt645-2007 000000000101");
    CHECK((*drivers)[1]->describe() == "dlt645-1997 000000000102");
    CHECK((*drivers)[2]->describe() == "cjt188 12345678901234");
    auto other = bus::make_bus_drivers(cfg, cfg.buses[1]);
    REQUIRE(other.has_value());
    REQUIRE(other->size() == 1);
    CHECK((*other)[0]->id() == "E-0201");
}

TEST_CASE("a meter's own serial settings override the bus's and others keep the bus's") {
    const auto cfg = parse(kConfig);
    auto drivers = bus::make_bus_drivers(cfg, cfg.buses[0]);
    REQUIRE(drivers.has_value());
    CHECK_FALSE((*drivers)[0]->line().has_value());
    const auto line = (*drivers)[1]->line();
    REQUIRE(line.has_value());
    CHECK(line->baud == 1200);
    CHECK(line->parity == 'E');
    CHECK(line->data_bits == 8);
    CHECK(bus::bus_line(cfg.buses[0]).baud == 2400);
}

TEST_CASE("only meters with relay enabled may be switched") {
    const auto cfg = parse(kConfig);
    auto floor1 = bus::make_bus_drivers(cfg, cfg.buses[0]);
    auto floor2 = bus::make_bus_drivers(cfg, cfg.buses[1]);
    REQUIRE(floor1.has_value());
    REQUIRE(floor2.has_value());
    CHECK((*floor1)[0]->can_switch());
    CHECK_FALSE((*floor1)[1]->can_switch());  // DL/T 645-1997 has no standard relay control
    CHECK((*floor1)[2]->can_switch());        // the water meter's valve
    CHECK_FALSE((*floor2)[0]->can_switch());
}

TEST_CASE("DL/T 645 meters take the broadcast time and water meters do not") {
    const auto cfg = parse(kConfig);
    auto drivers = bus::make_bus_drivers(cfg, cfg.buses[0]);
    REQUIRE(drivers.has_value());
    CHECK((*drivers)[0]->takes_time_broadcast());
    CHECK((*drivers)[1]->takes_time_broadcast());
    CHECK_FALSE((*drivers)[2]->takes_time_broadcast());
}

TEST_CASE("default quantities depend on the protocol") {
    CHECK(bus::default_quantities(config::Protocol::Dlt645_2007, config::MeterKind::Electricity)
              .front() == "energy_kwh");
    CHECK(bus::default_quantities(config::Protocol::Dlt645_1997, config::MeterKind::Electricity)
              .front() == "import_energy_kwh");
    CHECK(bus::default_quantities(config::Protocol::Cjt188, config::MeterKind::Water).empty());
}
