// One bus, several protocols: finding each request in the byte stream, Modbus RTU
// request framing, and the simulated bus built from a gateway config.
#include <doctest/doctest.h>

#include "hex_bytes.hpp"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <variant>

#include <unistd.h>

#include "ecmgw/config/config.hpp"
#include "ecmgw/config/profile.hpp"
#include "ecmgw/protocols/cjt188.hpp"
#include "ecmgw/protocols/dlt645.hpp"
#include "ecmgw/protocols/dlt645_1997.hpp"
#include "sim/bus_scan.hpp"
#include "sim/bus_setup.hpp"
#include "sim/modbus_rtu.hpp"

using namespace ecmgw;
using dlt645::Bytes;
using dlt645::ScanStatus;
using sim::BusProtocols;
using sim::FrameKind;

using ecmgw::test::concat;

namespace {

constexpr BusProtocols kAll{true, true, true};

Bytes with_crc(Bytes b) {
    const auto crc = sim::crc16(b);
    b.push_back(static_cast<std::uint8_t>(crc));
    b.push_back(static_cast<std::uint8_t>(crc >> 8));
    return b;
}

// A read of 2 input registers from 0 at unit 3, as libmodbus sends it.
const Bytes kModbusRead = with_crc({0x03, 0x04, 0x00, 0x00, 0x00, 0x02});

}  // namespace

TEST_CASE("crc16 matches the Modbus specification's example") {
    // 01 03 00 00 00 0A → CRC C5 CD (low byte first).
    const Bytes req{0x01, 0x03, 0x00, 0x00, 0x00, 0x0A};
    CHECK(sim::crc16(req) == 0xCDC5);
}

TEST_CASE("Modbus requests are framed by function code and CRC") {
    auto r = sim::scan_request(kModbusRead);
    CHECK(r.status == ScanStatus::Complete);
    CHECK(r.skipped == 0);
    CHECK(r.length == 8);

    const Bytes write_many =
        with_crc({0x05, 0x10, 0x00, 0x57, 0x00, 0x02, 0x04, 0x00, 0x01, 0x00, 0x01});
    r = sim::scan_request(concat({{0xFE, 0xFF}, write_many}));
    CHECK(r.status == ScanStatus::Complete);
    CHECK(r.skipped == 2);
    CHECK(r.length == write_many.size());
    const auto parsed = sim::parse_request(write_many);
    CHECK(parsed.unit == 5);
    CHECK(parsed.is_write());
    CHECK(parsed.table == modbus::Table::HoldingRegister);
    CHECK(parsed.address == 0x0057);
    CHECK(parsed.values == std::vector<std::uint16_t>{1, 1});

    const auto half = sim::scan_request(dlt645::ByteView(kModbusRead).first(5));
    CHECK(half.status == ScanStatus::Incomplete);
    Bytes bad = kModbusRead;
    bad.back() ^= 1;
    CHECK(sim::scan_request(bad).status != ScanStatus::Complete);
}

TEST_CASE("Modbus coil writes parse to 0/1 values") {
    const auto one = sim::parse_request(with_crc({0x02, 0x05, 0x00, 0x10, 0xFF, 0x00}));
    CHECK(one.table == modbus::Table::Coil);
    CHECK(one.values == std::vector<std::uint16_t>{1});
    const auto many =
        sim::parse_request(with_crc({0x02, 0x0F, 0x00, 0x10, 0x00, 0x03, 0x01, 0x05}));
    CHECK(many.values == std::vector<std::uint16_t>{1, 0, 1});
    const auto read = sim::parse_request(kModbusRead);
    CHECK(read.is_read());
    CHECK(read.table == modbus::Table::InputRegister);
    CHECK(read.count == 2);
}

TEST_CASE("the bus scanner finds each protocol's request") {
    const Bytes dlt = dlt645::encode_read(*dlt645::Address::parse("000000000001"), 0x00010000);
    const Bytes cjt = cjt188::encode_read_data(cjt188::MeterType::ColdWater,
                                               *cjt188::Address::parse("12345678901234"), 1);

    auto r = sim::scan_bus(dlt, kAll);
    REQUIRE(r.status == ScanStatus::Complete);
    CHECK(r.kind == FrameKind::Dlt645);
    CHECK(r.consumed == dlt.size());
    CHECK(r.dlt645.function() == 0x11);

    r = sim::scan_bus(cjt, kAll);
    REQUIRE(r.status == ScanStatus::Complete);
    CHECK(r.kind == FrameKind::Cjt188);
    CHECK(r.cjt188.address.to_string() == "12345678901234");

    r = sim::scan_bus(kModbusRead, kAll);
    REQUIRE(r.status == ScanStatus::Complete);
    CHECK(r.kind == FrameKind::ModbusRtu);
    CHECK(r.length == 8);

    // Back to back: the first one first.
    const Bytes both = concat({kModbusRead, dlt});
    r = sim::scan_bus(both, kAll);
    REQUIRE(r.status == ScanStatus::Complete);
    CHECK(r.kind == FrameKind::ModbusRtu);
    r = sim::scan_bus(dlt645::ByteView(both).subspan(r.consumed), kAll);
    REQUIRE(r.status == ScanStatus::Complete);
    CHECK(r.kind == FrameKind::Dlt645);
}

TEST_CASE("the bus scanner waits for a frame cut short and skips noise") {
    const Bytes dlt = dlt645::encode_read(*dlt645::Address::parse("000000000001"), 0x00010000);
    auto r = sim::scan_bus(dlt645::ByteView(dlt).first(10), kAll);
    CHECK(r.status == ScanStatus::Incomplete);
    r = sim::scan_bus(Bytes{0xFF, 0xFE, 0xFF}, kAll);
    CHECK(r.status == ScanStatus::NoFrame);
    CHECK(r.consumed == 3);
    // A bus without Modbus meters never takes bytes for a Modbus request.
    r = sim::scan_bus(kModbusRead, BusProtocols{true, true, false});
    CHECK(r.status != ScanStatus::Complete);
}

TEST_CASE("DL/T 645 versions are told apart by function code") {
    CHECK(sim::version_of(0x11) == sim::Dlt645Version::V2007);
    CHECK(sim::version_of(0x1C) == sim::Dlt645Version::V2007);
    CHECK(sim::version_of(0x13) == sim::Dlt645Version::V2007);
    CHECK(sim::version_of(0x01) == sim::Dlt645Version::V1997);
    CHECK(sim::version_of(0x04) == sim::Dlt645Version::V1997);
    CHECK(sim::version_of(0x08) == sim::Dlt645Version::Both);
}

// --- the bus from a config -----------------------------------------------------------

namespace {

config::Config mixed_config() {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("ecmgw-sim-bus-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto path = dir / "gw.toml";
    std::ofstream(path) << R"([gateway]
id = "gw"
profiles_dir = ")" << ECMGW_TESTDATA
                        << R"(/../../config/profiles"
[[bus]]
name = "floor1"
device = "/dev/ttyS0"
baud = 9600
parity = "N"
[[bus]]
name = "floor2"
device = "/dev/ttyS1"
[[meter]]
id = "E-0001"
bus = "floor1"
protocol = "dlt645-2007"
address = "000000000001"
[[meter]]
id = "E-0002"
bus = "floor1"
protocol = "dlt645-1997"
address = "000000000002"
baud = 1200
[[meter]]
id = "W-0001"
bus = "floor1"
protocol = "cjt188"
address = "12345678901234"
kind = "water"
[[meter]]
id = "M-0003"
bus = "floor1"
protocol = "modbus"
unit = 3
profile = "eastron-sdm120"
[[meter]]
id = "E-0101"
bus = "floor2"
protocol = "dlt645-2007"
address = "000000000101"
)";
    auto config = config::load_config(path);
    std::filesystem::remove_all(dir);
    REQUIRE_MESSAGE(config.has_value(),
                    (config ? std::string() : config.error().front().to_string()));
    return *config;
}

}  // namespace

TEST_CASE("a bus from a gateway config has exactly that bus's meters") {
    const auto config = mixed_config();
    auto bus = sim::bus_from_config(config, "floor1", {});
    REQUIRE_MESSAGE(bus.has_value(), (bus ? std::string() : bus.error().message));
    CHECK(bus->line == transport::LineSettings{9600, 'N', 8, 1});
    REQUIRE(bus->meters.size() == 4);
    CHECK(bus->meters[0].id == "E-0001");
    CHECK(std::holds_alternative<sim::SimulatedMeter>(bus->meters[0].model));
    CHECK(std::holds_alternative<sim::Dlt645_1997Meter>(bus->meters[1].model));
    CHECK(std::holds_alternative<sim::Cjt188Meter>(bus->meters[2].model));
    CHECK(std::holds_alternative<sim::ModbusMeter>(bus->meters[3].model));
    CHECK(sim::protocol_name(bus->meters[3].model) == "modbus");
    CHECK(sim::address_text(bus->meters[3].model) == "3");
    REQUIRE(bus->meters[1].line.has_value());
    CHECK(bus->meters[1].line->baud == 1200);
    CHECK_FALSE(bus->meters[0].line.has_value());

    auto other = sim::bus_from_config(config, "floor2", {});
    REQUIRE(other.has_value());
    REQUIRE(other->meters.size() == 1);
    CHECK(other->meters[0].id == "E-0101");

    CHECK_FALSE(sim::bus_from_config(config, "", {}).has_value());  // two buses: say which
    CHECK_FALSE(sim::bus_from_config(config, "floor9", {}).has_value());
}

TEST_CASE("faults and block refusals find their meters by id, address, unit or *") {
    const auto config = mixed_config();
    sim::Population population;
    population.no_blocks = {"E-0001"};
    auto bus = sim::bus_from_config(config, "floor1", population);
    REQUIRE(bus.has_value());

    const std::vector<sim::FaultRule> rules{{"E-0001", "dead", 0},
                                            {"000000000002", "drop", 0.5},
                                            {"3", "corrupt", 1.0},
                                            {"*", "delay", 100}};
    REQUIRE(sim::apply_faults(*bus, rules).has_value());
    CHECK(bus->meters[0].faults.dead);
    CHECK(bus->meters[1].faults.drop == 0.5);
    CHECK(bus->meters[3].faults.corrupt == 1.0);
    CHECK(bus->meters[2].faults.delay_ms == 100);

    CHECK_FALSE(sim::apply_faults(*bus, {{"E-0999", "dead", 0}}).has_value());
    population.no_blocks = {"E-0999"};
    CHECK_FALSE(sim::bus_from_config(config, "floor1", population).has_value());
}

TEST_CASE("without a config: consecutive addresses of one protocol") {
    auto addresses = sim::consecutive_addresses("000000000099", 3);
    REQUIRE(addresses.has_value());
    CHECK(*addresses == std::vector<std::string>{"000000000099", "000000000100", "000000000101"});
    auto bus = sim::bus_from_addresses(*addresses, {2400, 'E', 8, 1}, {});
    REQUIRE(bus.has_value());
    REQUIRE(bus->meters.size() == 3);
    CHECK(bus->meters[2].id == "000000000101");
    CHECK(std::holds_alternative<sim::SimulatedMeter>(bus->meters[2].model));
    CHECK(bus->line == transport::LineSettings{2400, 'E', 8, 1});

    CHECK(*sim::consecutive_addresses("1", 2) == std::vector<std::string>{"1", "2"});
    CHECK_FALSE(sim::consecutive_addresses("99", 2).has_value());  // 100 has three digits
    CHECK_FALSE(sim::consecutive_addresses("12a", 2).has_value());

    sim::CliMeters water;
    water.protocol = config::Protocol::Cjt188;
    water.addresses = {"12345678901234"};
    auto cjt = sim::bus_from_cli(water, {2400, 'E', 8, 1}, {});
    REQUIRE_MESSAGE(cjt.has_value(), (cjt ? std::string() : cjt.error().message));
    CHECK(std::holds_alternative<sim::Cjt188Meter>(cjt->meters[0].model));
    water.addresses = {"000000000001"};  // 12 digits: not a CJ/T 188 address
    CHECK_FALSE(sim::bus_from_cli(water, {2400, 'E', 8, 1}, {}).has_value());

    sim::CliMeters modbus;
    modbus.protocol = config::Protocol::Modbus;
    modbus.addresses = {"3"};
    CHECK_FALSE(sim::bus_from_cli(modbus, {9600, 'N', 8, 1}, {}).has_value());  // no profile
    auto profile = config::load_profile(std::string(ECMGW_TESTDATA) +
                                        "/../../config/profiles/eastron-sdm120.toml");
    REQUIRE(profile.has_value());
    modbus.profile = *profile;
    auto units = sim::bus_from_cli(modbus, {9600, 'N', 8, 1}, {});
    REQUIRE_MESSAGE(units.has_value(), (units ? std::string() : units.error().message));
    CHECK(sim::address_text(units->meters[0].model) == "3");
    CHECK(units->meters[0].id == "3");
    modbus.addresses = {"248"};
    CHECK_FALSE(sim::bus_from_cli(modbus, {9600, 'N', 8, 1}, {}).has_value());
}
