// The config module: what a technician gets back for each kind of mistake.
// Each test checks the place (line, and column where it means something), the
// key path, and that the message says what was found and what was expected.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#include "config_doc.hpp"
#include "ecmgw/config/config.hpp"

using namespace ecmgw::config;
using namespace ecmgw::test;

namespace {

constexpr std::string_view kFile = ecmgw::test::kConfigFile;

// tests/testdata. ECMGW_TESTDATA is meant to name it, but tests/CMakeLists.txt
// expands CMAKE_CURRENT_SOURCE_DIR inside its function, i.e. in the caller's
// folder (tests/unit/testdata); this keeps the tests right before and after
// that is fixed.
std::string testdata(std::string_view rest) {
    std::filesystem::path dir = ECMGW_TESTDATA;
    if (!std::filesystem::is_directory(dir / "config")) {
        dir = std::filesystem::path(__FILE__).parent_path().parent_path() / "testdata";
    }
    return (dir.string() + std::string(rest));
}

// Lines 1-3 of most documents below.
const std::string kGateway = "[gateway]\nid = \"gw-0001\"\ntimezone = \"UTC\"\n";
// Lines 4-6.
const std::string kBus = "[[bus]]\nname = \"floor1\"\ndevice = \"/dev/ttyUSB0\"\n";

// A [[meter]] on bus floor1 with the given address, 5 lines.
std::string meter(std::string_view id, std::string_view address) {
    return "[[meter]]\nid = \"" + std::string(id) + "\"\nbus = \"floor1\"\n" +
           "protocol = \"dlt645-2007\"\naddress = \"" + std::string(address) + "\"\n";
}

}  // namespace

// --- valid files -------------------------------------------------------------

TEST_CASE("a full valid config parses with every value") {
    auto result = load_config(testdata("/config/valid_full.toml"));
    INFO((result ? std::string() : all_errors(result.error())));
    REQUIRE(result.has_value());
    const Config& c = *result;
    CHECK(c.source == std::filesystem::path(testdata("/config/valid_full.toml")));
    CHECK(c.gateway.id == "gw_TEST-42");
    CHECK(c.gateway.data_dir == "/srv/ecmgw");
    CHECK(c.gateway.timezone == "UTC");
    CHECK(c.cloud.uri == "ssl://broker.example.com:8883");
    CHECK(c.cloud.topic_prefix == "site/ecm");
    CHECK(c.cloud.client_id == "box-42");
    CHECK(c.cloud.keepalive_s == 120);
    CHECK(c.cloud.batch_max_records == 500);
    CHECK(c.cloud.batch_max_delay_ms == 0);

    REQUIRE(c.buses.size() == 2);
    const BusConfig& north = c.buses[0];
    CHECK(north.name == "north");
    CHECK(north.device == "/dev/serial/by-path/platform-usb-0:1:1.0-port0");
    CHECK(north.baud == 9600);
    CHECK(north.parity == Parity::None);
    CHECK(north.data_bits == 7);
    CHECK(north.stop_bits == 2);
    CHECK(north.timeout_ms == 1500);
    CHECK(north.inter_byte_timeout_ms == 100);
    CHECK(north.gap_ms == 50);
    CHECK(north.retries == 3);
    CHECK(c.buses[1].name == "south");
    CHECK(c.buses[1].parity == Parity::Odd);

    REQUIRE(c.meters.size() == 2);
    const MeterConfig& w = c.meters[0];
    CHECK(w.id == "W-7");
    CHECK(w.bus == "south");
    CHECK(w.protocol == Protocol::Dlt645_2007);
    CHECK(w.address == "202012345678");
    CHECK(w.kind == MeterKind::Water);
    CHECK(w.interval_s == 900);
    CHECK(w.quantities == std::vector<std::string>{"energy_kwh", "status_word_3"});
    CHECK(c.meters[1].id == "E-1");
    CHECK(c.meters[1].bus == "north");
}

TEST_CASE("keys left out take their defaults") {
    const Config c = parse_ok(kGateway + kBus + meter("E-0101", "000000000101"));
    CHECK(c.gateway.data_dir == "/var/lib/ecmgw");
    CHECK(c.cloud.uri == "tcp://127.0.0.1:1883");
    CHECK(c.cloud.topic_prefix == "ecm/v1");
    CHECK(c.cloud.keepalive_s == 30);
    CHECK(c.cloud.batch_max_records == 200);
    CHECK(c.cloud.batch_max_delay_ms == 1000);
    REQUIRE(c.buses.size() == 1);
    const BusConfig& b = c.buses[0];
    CHECK(b.baud == 2400);
    CHECK(b.parity == Parity::Even);
    CHECK(b.data_bits == 8);
    CHECK(b.stop_bits == 1);
    CHECK(b.timeout_ms == 600);
    CHECK(b.inter_byte_timeout_ms == 500);
    CHECK(b.gap_ms == 20);
    CHECK(b.retries == 1);
    REQUIRE(c.meters.size() == 1);
    CHECK(c.meters[0].kind == MeterKind::Electricity);
    CHECK(c.meters[0].interval_s == 60);
    CHECK(c.meters[0].quantities.empty());
    CHECK(c.source == std::filesystem::path(kFile));
}

TEST_CASE("the gateway's own defaults: timezone - and client_id from the gateway id") {
    const Config c = parse_ok("[gateway]\nid = \"gw-0001\"\n");
    CHECK(c.gateway.timezone == "Asia/Shanghai");
    CHECK(c.cloud.client_id == "ecmgw-gw-0001");
    const Config empty_id = parse_ok("[gateway]\nid = \"gw-9\"\n[cloud]\nclient_id = \"\"\n");
    CHECK(empty_id.cloud.client_id == "ecmgw-gw-9");
}

TEST_CASE("a box not yet commissioned (no bus - no meter) is valid") {
    const Config c = parse_ok(kGateway);
    CHECK(c.buses.empty());
    CHECK(c.meters.empty());
    const Config empty_arrays = parse_ok("bus = []\nmeter = []\n" + kGateway);
    CHECK(empty_arrays.buses.empty());
}

TEST_CASE("the shipped example config parses without error") {
    // The example points profiles_dir at the installed profiles; here they are read
    // from the source tree instead.
    const std::string file = testdata("/../../config/ecmgw.example.toml");
    std::ifstream in(file);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string installed = "profiles_dir = \"/usr/share/ecmgw/profiles\"";
    const std::size_t at = text.find(installed);
    REQUIRE(at != std::string::npos);
    text.replace(at, installed.size(),
                 "profiles_dir = \"" + testdata("/../../config/profiles") + "\"");
    auto result = parse_config(text, file);
    INFO((result ? std::string() : all_errors(result.error())));
    REQUIRE(result.has_value());
    CHECK_FALSE(result->buses.empty());
    CHECK_FALSE(result->meters.empty());
    for (const auto& m : result->meters) CHECK(result->find_bus(m.bus) != nullptr);
    CHECK(result->profiles.size() >= 6);
    const MeterConfig* modbus = result->find_meter("E-0301");
    REQUIRE(modbus != nullptr);
    REQUIRE(result->profile_of(*modbus) != nullptr);
    CHECK(result->profile_of(*modbus)->model == "SDM120-Modbus");
}

TEST_CASE("a UTF-8 BOM and CRLF line ends are accepted") {
    auto result = load_config(testdata("/config/bom_crlf.toml"));
    INFO((result ? std::string() : all_errors(result.error())));
    REQUIRE(result.has_value());
    CHECK(result->gateway.id == "gw-crlf");
}

TEST_CASE("parity accepts N/E/O and the words none/even/odd in any case") {
    for (auto [text, parity] : {std::pair{"N", Parity::None},
                                {"E", Parity::Even},
                                {"O", Parity::Odd},
                                {"none", Parity::None},
                                {"EVEN", Parity::Even},
                                {"Odd", Parity::Odd}}) {
        CAPTURE(text);
        const Config c = parse_ok(kGateway + kBus + "parity = \"" + text + "\"\n");
        CHECK(c.buses[0].parity == parity);
    }
}

TEST_CASE("every accepted cloud uri form") {
    for (const char* uri : {"tcp://127.0.0.1:1883", "ssl://broker.example.com:8883", "mqtt://b:1",
                            "mqtts://b-2.example:65535", "tcp://[::1]:1883"}) {
        CAPTURE(uri);
        const Config c = parse_ok(kGateway + "[cloud]\nuri = \"" + uri + "\"\n");
        CHECK(c.cloud.uri == uri);
    }
}

TEST_CASE("an IANA time zone that exists is accepted") {
    if (!std::filesystem::exists("/usr/share/zoneinfo/Asia/Shanghai")) return;  // no tzdata
    const Config c = parse_ok("[gateway]\nid = \"g\"\ntimezone = \"Asia/Shanghai\"\n");
    CHECK(c.gateway.timezone == "Asia/Shanghai");
}

TEST_CASE("the same address on two different buses is fine") {
    const std::string bus2 = "[[bus]]\nname = \"floor2\"\ndevice = \"/dev/ttyUSB1\"\n";
    const Config c = parse_ok(kGateway + kBus + bus2 + meter("E-1", "000000000101") +
                              "[[meter]]\nid = \"E-2\"\nbus = \"floor2\"\n"
                              "protocol = \"dlt645-2007\"\naddress = \"000000000101\"\n");
    CHECK(c.meters.size() == 2);
}

TEST_CASE("inline tables in a bus array are the same as [[bus]]") {
    const Config c =
        parse_ok("bus = [{ name = \"a\", device = \"/dev/ttyS0\", baud = 1200 }]\n" + kGateway);
    REQUIRE(c.buses.size() == 1);
    CHECK(c.buses[0].baud == 1200);
}

// --- mistakes ------------------------------------------------------------------

TEST_CASE("TOML syntax error: file:line:column and toml++'s description") {
    const ConfigErrors errors = errors_of("[gateway]\nid = \"gw-0001\"\ntimezone = \n");
    REQUIRE(errors.size() == 1);
    const ConfigError& e = errors[0];
    CHECK(e.file == "t.toml");
    CHECK(e.line == 3);
    CHECK(e.column == 12);  // the end of the line, where the value should be
    CHECK(e.key.empty());
    CHECK(has(e.message, "invalid TOML"));
    CHECK(has(e.message, "expected value"));
    CHECK(e.to_string().starts_with("t.toml:3:12: invalid TOML: "));
}

TEST_CASE("TOML syntax error in a file: an unterminated string") {
    auto result = load_config(testdata("/config/syntax_error.toml"));
    REQUIRE_FALSE(result.has_value());
    REQUIRE(result.error().size() == 1);
    const ConfigError& e = result.error()[0];
    CHECK(e.file == testdata("/config/syntax_error.toml"));
    CHECK(e.line == 5);
    CHECK(has(e.message, "invalid TOML"));
    CHECK(has(e.message, "string"));
}

TEST_CASE("unknown key: lists the valid keys and suggests the closest") {
    const ConfigError e = only_error(kGateway + kBus + "buad = 2400\n");
    CHECK(e.line == 7);
    CHECK(e.column == 1);
    CHECK(e.key == "bus[1].buad");
    CHECK(has(e.message, "unknown key 'buad'"));
    CHECK(has(e.message, "did you mean 'baud'?"));
    CHECK(has(e.message,
              "expected one of: name, device, baud, parity, data_bits, stop_bits, "
              "timeout_ms, inter_byte_timeout_ms, gap_ms, retries"));
}

TEST_CASE("unknown key: a missing unit suffix or an added word still gets a suggestion") {
    CHECK(has(only_error(kGateway + kBus + "baudrate = 2400\n").message, "did you mean 'baud'?"));
    const ConfigError e = only_error(kGateway + "[cloud]\nkeepalive = 30\n");
    CHECK(e.key == "cloud.keepalive");
    CHECK(e.line == 5);
    CHECK(has(e.message, "did you mean 'keepalive_s'?"));
}

TEST_CASE("unknown key far from every known key: no suggestion - just the list") {
    const ConfigError e = only_error(kGateway + "colour = \"red\"\n");
    CHECK(e.key == "gateway.colour");
    CHECK(e.line == 4);
    CHECK_FALSE(has(e.message, "did you mean"));
    CHECK(has(e.message, "expected one of: id, data_dir, timezone"));
}

TEST_CASE("unknown key in a meter") {
    const ConfigError e =
        only_error(kGateway + kBus + meter("E-1", "000000000101") + "interval = 60\n");
    CHECK(e.key == "meter[1].interval");
    CHECK(e.line == 12);
    CHECK(has(e.message, "did you mean 'interval_s'?"));
}

TEST_CASE("unknown top-level table - with a suggestion") {
    const ConfigError e = only_error(kGateway + "[[meters]]\nid = \"E-1\"\n");
    CHECK(e.line == 4);
    CHECK(e.column == 3);
    CHECK(e.key == "meters");
    CHECK(has(e.message, "unknown table [[meters]]"));
    CHECK(has(e.message, "did you mean 'meter'?"));
    CHECK(has(e.message, "expected one of: [gateway], [cloud], [[bus]], [[meter]]"));
}

TEST_CASE("a key above every table header: says which table it belongs to") {
    const ConfigError e = only_error("baud = 2400\n" + kGateway);
    CHECK(e.line == 1);
    CHECK(e.key == "baud");
    CHECK(has(e.message, "unknown key 'baud' at the top level"));
    CHECK(has(e.message, "belongs below the [[bus]] header"));
}

TEST_CASE("wrong type: a number in quotes") {
    const ConfigError e = only_error(kGateway + kBus + "baud = \"2400\"\n");
    CHECK(e.line == 7);
    CHECK(e.column == 8);
    CHECK(e.key == "bus[1].baud");
    CHECK(has(e.message, "found string \"2400\", expected an integer"));
    CHECK(has(e.message, "without quotes"));
}

TEST_CASE("wrong type: a decimal point - a boolean - text for a number") {
    CHECK(has(only_error(kGateway + "[cloud]\nkeepalive_s = 30.0\n").message,
              "found floating-point number 30.0, expected an integer"));
    CHECK(has(only_error(kGateway + kBus + "retries = true\n").message,
              "found boolean true, expected an integer"));
    const ConfigError e = only_error(kGateway + "[[bus]]\nname = \"floor1\"\ndevice = 0\n");
    CHECK(e.key == "bus[1].device");
    CHECK(has(e.message, "found integer 0, expected a string"));
}

TEST_CASE("wrong type: a meter address written as a bare number") {
    const ConfigError e = only_error(kGateway + kBus +
                                     "[[meter]]\nid = \"E-1\"\nbus = \"floor1\"\n"
                                     "protocol = \"dlt645-2007\"\naddress = 101\n");
    CHECK(e.line == 11);
    CHECK(e.column == 11);
    CHECK(e.key == "meter[1].address");
    CHECK(has(e.message, "found integer 101"));
    CHECK(has(e.message, "expected 12 digits as a string in double quotes"));
    CHECK(has(e.message, "address = \"000000000101\""));
}

TEST_CASE("out of range: the message states the range") {
    struct Case {
        std::string text;
        std::string key;
        std::string expected;
    };
    const Case cases[] = {
        {"[cloud]\nkeepalive_s = 4\n", "cloud.keepalive_s", "found 4, expected 5..3600 s"},
        {"[cloud]\nbatch_max_records = 10001\n", "cloud.batch_max_records",
         "found 10001, expected 1..10000"},
        {"[cloud]\nbatch_max_delay_ms = -1\n", "cloud.batch_max_delay_ms",
         "found -1, expected 0..60000 ms"},
        {kBus + "timeout_ms = 10001\n", "bus[1].timeout_ms", "found 10001, expected 50..10000 ms"},
        {kBus + "inter_byte_timeout_ms = 9\n", "bus[1].inter_byte_timeout_ms",
         "found 9, expected 10..5000 ms"},
        {kBus + "gap_ms = 2001\n", "bus[1].gap_ms", "found 2001, expected 0..2000 ms"},
        {kBus + "retries = 6\n", "bus[1].retries", "found 6, expected 0..5"},
        {kBus + "data_bits = 9\n", "bus[1].data_bits", "found 9, expected one of 7, 8"},
        {kBus + "stop_bits = 0\n", "bus[1].stop_bits", "found 0, expected one of 1, 2"},
        {kBus + "timeout_ms = 9999999999999\n", "bus[1].timeout_ms",
         "found 9999999999999, expected 50..10000 ms"},
        {kBus + meter("E-1", "000000000001") + "interval_s = 86401\n", "meter[1].interval_s",
         "found 86401, expected 1..86400 s"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.text);
        const ConfigError e = only_error(kGateway + c.text);
        CHECK(e.key == c.key);
        CHECK(e.line >= 5);
        CHECK(has(e.message, c.expected));
    }
}

TEST_CASE("baud not a standard rate") {
    const ConfigError e = only_error(kGateway + kBus + "baud = 2401\n");
    CHECK(e.line == 7);
    CHECK(e.column == 8);
    CHECK(e.key == "bus[1].baud");
    CHECK(has(e.message,
              "found 2401, expected one of 300, 600, 1200, 2400, 4800, 9600, 19200, "
              "38400, 57600, 115200"));
}

TEST_CASE("parity not N/E/O") {
    for (const char* bad : {"X", "e", "n", "space", ""}) {
        CAPTURE(bad);
        const ConfigError e = only_error(kGateway + kBus + "parity = \"" + bad + "\"\n");
        CHECK(e.line == 7);
        CHECK(e.column == 10);
        CHECK(e.key == "bus[1].parity");
        CHECK(has(e.message, std::string("found \"") + bad + "\""));
        CHECK(has(e.message, "expected \"N\", \"E\" or \"O\" (or \"none\", \"even\", \"odd\")"));
    }
}

TEST_CASE("duplicate bus names") {
    const ConfigError e =
        only_error(kGateway + kBus + "[[bus]]\nname = \"floor1\"\ndevice = \"/dev/ttyUSB1\"\n");
    CHECK(e.line == 8);
    CHECK(e.column == 8);
    CHECK(e.key == "bus[2].name");
    CHECK(has(e.message, "duplicate bus name \"floor1\""));
    CHECK(has(e.message, "bus[1] (line 5)"));
}

TEST_CASE("two buses on the same serial device") {
    const ConfigError e =
        only_error(kGateway + kBus + "[[bus]]\nname = \"floor2\"\ndevice = \"/dev/ttyUSB0\"\n");
    CHECK(e.line == 9);
    CHECK(e.key == "bus[2].device");
    CHECK(has(e.message, "\"/dev/ttyUSB0\" is already used by bus[1] (line 6)"));
}

TEST_CASE("bad identifiers: gateway id - bus name - meter id") {
    const ConfigError gw = only_error("[gateway]\nid = \"gw/0001\"\n");
    CHECK(gw.line == 2);
    CHECK(gw.column == 6);
    CHECK(gw.key == "gateway.id");
    CHECK(has(gw.message, "found \"gw/0001\", expected 1 to 64 characters"));
    CHECK(has(gw.message, "MQTT topics"));
    CHECK(has(only_error("[gateway]\nid = \"" + std::string(65, 'a') + "\"\n").message,
              "expected 1 to 64"));
    CHECK(has(only_error("[gateway]\nid = \"\"\n").message, "found \"\""));
    CHECK(only_error(kGateway + "[[bus]]\nname = \"floor 1\"\ndevice = \"/dev/x\"\n").key ==
          "bus[1].name");
    CHECK(only_error(kGateway + kBus + meter("E 1", "000000000001")).key == "meter[1].id");
}

TEST_CASE("duplicate meter ids") {
    const ConfigError e =
        only_error(kGateway + kBus + meter("E-1", "000000000001") + meter("E-1", "000000000002"));
    CHECK(e.line == 13);
    CHECK(e.column == 6);
    CHECK(e.key == "meter[2].id");
    CHECK(has(e.message, "duplicate meter id \"E-1\""));
    CHECK(has(e.message, "meter[1] (line 8)"));
}

TEST_CASE("meter on an unknown bus: lists the known buses") {
    const std::string text = kGateway + kBus +
                             "[[bus]]\nname = \"floor2\"\ndevice = \"/dev/ttyUSB1\"\n"
                             "[[meter]]\nid = \"E-1\"\nbus = \"floor3\"\n"
                             "protocol = \"dlt645-2007\"\naddress = \"000000000001\"\n";
    const ConfigError e = only_error(text);
    CHECK(e.line == 12);
    CHECK(e.column == 7);
    CHECK(e.key == "meter[1].bus");
    CHECK(has(e.message, "no [[bus]] is named \"floor3\""));
    CHECK(has(e.message, "known buses: \"floor1\", \"floor2\""));
}

TEST_CASE("meter on a bus when no bus is defined") {
    const ConfigError e = only_error(kGateway +
                                     "[[meter]]\nid = \"E-1\"\nbus = \"floor1\"\n"
                                     "protocol = \"dlt645-2007\"\naddress = \"000000000001\"\n");
    CHECK(e.key == "meter[1].bus");
    CHECK(e.line == 6);
    CHECK(has(e.message, "no [[bus]] is defined"));
}

TEST_CASE("a meter may be listed before its bus") {
    const Config c = parse_ok(kGateway + meter("E-1", "000000000001") + kBus);
    CHECK(c.meters[0].bus == "floor1");
}

TEST_CASE("unsupported protocol: lists the supported ones") {
    const ConfigError e = only_error(kGateway + kBus +
                                     "[[meter]]\nid = \"E-1\"\nbus = \"floor1\"\n"
                                     "protocol = \"dlt645-2009\"\naddress = \"000000000001\"\n");
    CHECK(e.line == 10);
    CHECK(e.column == 12);
    CHECK(e.key == "meter[1].protocol");
    CHECK(has(e.message, "found \"dlt645-2009\""));
    CHECK(has(e.message, "did you mean 'dlt645-2007'?"));
    CHECK(has(e.message,
              "expected one of the supported protocols: \"dlt645-2007\", \"dlt645-1997\", "
              "\"cjt188\", \"modbus\""));
}

TEST_CASE("dlt645-2007 address not 12 decimal digits") {
    const ConfigError short_one = only_error(kGateway + kBus + meter("E-1", "101"));
    CHECK(short_one.line == 11);
    CHECK(short_one.column == 11);
    CHECK(short_one.key == "meter[1].address");
    CHECK(has(short_one.message, "found \"101\", expected exactly 12 decimal digits"));
    CHECK(has(short_one.message, "\"000000000101\""));
    for (const char* bad : {"0000000001010", "00000000010A", "00000000 101", ""}) {
        CAPTURE(bad);
        const ConfigError e = only_error(kGateway + kBus + meter("E-1", bad));
        CHECK(e.key == "meter[1].address");
        CHECK(has(e.message, "expected exactly 12 decimal digits"));
    }
}

TEST_CASE("wildcard and broadcast addresses are refused - with the reason") {
    const ConfigError wild = only_error(kGateway + kBus + meter("E-1", "AAAAAAAAAAAA"));
    CHECK(wild.line == 11);
    CHECK(wild.key == "meter[1].address");
    CHECK(has(wild.message, "wildcard"));
    CHECK(has(wild.message, "wrong meter"));
    CHECK(has(only_error(kGateway + kBus + meter("E-1", "aaaaaaaaaaaa")).message, "wildcard"));
    const ConfigError broad = only_error(kGateway + kBus + meter("E-1", "999999999999"));
    CHECK(broad.key == "meter[1].address");
    CHECK(has(broad.message, "broadcast"));
    CHECK(has(broad.message, "never answer"));
}

TEST_CASE("two meters with the same address on the same bus") {
    const ConfigError e =
        only_error(kGateway + kBus + meter("E-1", "000000000101") + meter("E-2", "000000000101"));
    CHECK(e.line == 16);
    CHECK(e.column == 11);
    CHECK(e.key == "meter[2].address");
    CHECK(has(e.message, "already used by meter[1] (line 11) on bus \"floor1\""));
}

TEST_CASE("meter kind not electricity/water") {
    const ConfigError e =
        only_error(kGateway + kBus + meter("E-1", "000000000101") + "kind = \"gas\"\n");
    CHECK(e.line == 12);
    CHECK(e.column == 8);
    CHECK(e.key == "meter[1].kind");
    CHECK(has(e.message, "found \"gas\", expected one of \"electricity\", \"water\""));
}

TEST_CASE("unknown quantity names: lists the valid ones") {
    const ConfigError e = only_error(kGateway + kBus + meter("E-1", "000000000101") +
                                     "quantities = [\"energy_kwh\", \"energy\"]\n");
    CHECK(e.line == 12);
    CHECK(e.column == 29);
    CHECK(e.key == "meter[1].quantities[2]");
    CHECK(has(e.message, "unknown quantity \"energy\""));
    CHECK(has(e.message, "did you mean 'energy_kwh'?"));
    CHECK(has(e.message, "voltage_a_v"));
    CHECK(has(e.message, "status_word_3"));
}

TEST_CASE("quantities: wrong types and repeats") {
    const ConfigErrors errors = errors_of(kGateway + kBus + meter("E-1", "000000000101") +
                                          "quantities = [\"energy_kwh\", 7, \"energy_kwh\"]\n");
    INFO(all_errors(errors));
    REQUIRE(errors.size() == 2);
    CHECK(errors[0].key == "meter[1].quantities[2]");
    CHECK(has(errors[0].message, "found integer 7, expected a quantity name as a string"));
    CHECK(errors[1].key == "meter[1].quantities[3]");
    CHECK(has(errors[1].message, "listed twice"));
    const ConfigError not_array = only_error(kGateway + kBus + meter("E-1", "000000000101") +
                                             "quantities = \"energy_kwh\"\n");
    CHECK(has(not_array.message, "found string \"energy_kwh\", expected an array"));
}

TEST_CASE("missing required keys point to the table's header line") {
    const ConfigError gw = only_error("# comment\n[gateway]\ntimezone = \"UTC\"\n");
    CHECK(gw.line == 2);
    CHECK(gw.column == 1);
    CHECK(gw.key == "gateway.id");
    CHECK(has(gw.message, "missing required key 'id'"));

    const ConfigErrors bus = errors_of(kGateway + "[[bus]]\nbaud = 2400\n");
    REQUIRE(bus.size() == 2);
    CHECK(bus[0].line == 4);
    CHECK(bus[1].line == 4);
    CHECK(bus[0].key == "bus[1].name");
    CHECK(bus[1].key == "bus[1].device");
    CHECK(has(bus[1].message, "missing required key 'device'"));

    const ConfigErrors m = errors_of(kGateway + kBus + "[[meter]]\nkind = \"water\"\n");
    INFO(all_errors(m));
    REQUIRE(m.size() == 4);
    for (const auto& e : m) CHECK(e.line == 7);
    CHECK(m[0].key == "meter[1].id");
    CHECK(m[1].key == "meter[1].bus");
    CHECK(m[2].key == "meter[1].protocol");
    CHECK(m[3].key == "meter[1].address");
}

TEST_CASE("[gateway] missing entirely") {
    const ConfigError e = only_error(kBus);
    CHECK(e.line == 0);
    CHECK(e.key == "gateway");
    CHECK(has(e.message, "missing required table [gateway]"));
    CHECK(e.to_string().starts_with("t.toml: gateway: missing required table [gateway]"));
    CHECK(only_error("").key == "gateway");
}

TEST_CASE("[bus] or [meter] written as a single table instead of [[bus]]") {
    auto result = load_config(testdata("/config/bus_as_table.toml"));
    REQUIRE_FALSE(result.has_value());
    REQUIRE(result.error().size() == 1);
    const ConfigError& e = result.error()[0];
    CHECK(e.line == 4);
    CHECK(e.key == "bus");
    CHECK(has(e.message, "found a single table [bus], expected an array of tables"));
    CHECK(has(e.message, "write [[bus]]"));

    const ConfigError m = only_error(kGateway + kBus + "[meter]\nid = \"E-1\"\n");
    CHECK(m.key == "meter");
    CHECK(m.line == 7);
    CHECK(has(m.message, "write [[meter]]"));

    CHECK(has(only_error("bus = \"floor1\"\n" + kGateway).message,
              "found string \"floor1\", expected an array of tables"));
    CHECK(has(only_error("bus = [1]\n" + kGateway).message, "found integer 1, expected a table"));
}

TEST_CASE("[[gateway]] instead of [gateway]") {
    const ConfigError e = only_error("[[gateway]]\nid = \"gw\"\n");
    CHECK(e.key == "gateway");
    CHECK(e.line == 1);
    CHECK(has(e.message, "found an array of tables, expected a single table"));
    CHECK(has(e.message, "write [gateway]"));
}

TEST_CASE("timezone that does not exist") {
    for (const char* bad :
         {"Asia/Shangai", "Asia", "../../../etc/passwd", "/etc/localtime", "zone.tab", ""}) {
        CAPTURE(bad);
        const ConfigError e =
            only_error(std::string("[gateway]\nid = \"g\"\ntimezone = \"") + bad + "\"\n");
        CHECK(e.line == 3);
        CHECK(e.column == 12);
        CHECK(e.key == "gateway.timezone");
        CHECK(has(e.message, "expected an IANA time zone name"));
    }
}

TEST_CASE("data_dir must be an absolute path") {
    const ConfigError e = only_error(kGateway + "data_dir = \"var/lib/ecmgw\"\n");
    CHECK(e.line == 4);
    CHECK(e.key == "gateway.data_dir");
    CHECK(has(e.message, "found \"var/lib/ecmgw\", expected an absolute path"));
}

TEST_CASE("cloud uri not scheme://host:port") {
    struct Case {
        const char* uri;
        const char* problem;
    };
    for (const Case& c :
         {Case{"127.0.0.1:1883", "no scheme://"},
          Case{"http://b:80", "not tcp, ssl, mqtt or mqtts"},
          Case{"tcp://broker", "port is missing"},
          Case{"tcp://broker:", "port number after ':' is missing"},
          Case{"tcp://broker:0", "not in 1..65535"}, Case{"tcp://broker:70000", "not in 1..65535"},
          Case{"tcp://broker:18a3", "not a number"}, Case{"tcp://:1883", "host name is missing"},
          Case{"tcp://u:p@broker:1883", "user names"}, Case{"ws://b:80/mqtt", "not tcp"},
          Case{"tcp://b:1883/x", "path"}, Case{"tcp://[::1:1883", "closing ']'"},
          Case{"tcp://bro ker:1883", "characters"}}) {
        CAPTURE(c.uri);
        const ConfigError e = only_error(kGateway + "[cloud]\nuri = \"" + c.uri + "\"\n");
        CHECK(e.line == 5);
        CHECK(e.column == 7);
        CHECK(e.key == "cloud.uri");
        CHECK(has(e.message, c.problem));
        CHECK(has(e.message, "expected tcp://host:port"));
    }
}

TEST_CASE("topic_prefix with wildcards or stray slashes") {
    for (const char* bad : {"ecm/+", "ecm/#", "/ecm", "ecm/", "ecm//v1", "", "$SYS/x", "ecm v1"}) {
        CAPTURE(bad);
        const ConfigError e = only_error(kGateway + "[cloud]\ntopic_prefix = \"" + bad + "\"\n");
        CHECK(e.key == "cloud.topic_prefix");
        CHECK(e.line == 5);
        CHECK(has(e.message, std::string("found \"") + bad + "\""));
        CHECK(has(e.message, "expected topic levels separated by '/'"));
    }
}

TEST_CASE("client_id with spaces or too long") {
    CHECK(only_error(kGateway + "[cloud]\nclient_id = \"my box\"\n").key == "cloud.client_id");
    CHECK(has(
        only_error(kGateway + "[cloud]\nclient_id = \"" + std::string(129, 'c') + "\"\n").message,
        "longer than 128"));
}

TEST_CASE("many mistakes are reported together - in file order") {
    const std::string text =
        "[gateway]\n"                   // 1
        "id = \"gw-0001\"\n"            // 2
        "timezone = \"UTC\"\n"          // 3
        "[[meter]]\n"                   // 4
        "id = \"E-1\"\n"                // 5
        "bus = \"nowhere\"\n"           // 6
        "protocol = \"dlt645-2007\"\n"  // 7
        "address = \"1\"\n"             // 8
        "[[bus]]\n"                     // 9
        "name = \"floor1\"\n"           // 10
        "device = \"/dev/ttyUSB0\"\n"   // 11
        "baud = 2401\n"                 // 12
        "parity = \"X\"\n"              // 13
        "[cloud]\n"                     // 14
        "keepalive_s = 1\n";            // 15
    const ConfigErrors errors = errors_of(text);
    INFO(all_errors(errors));
    REQUIRE(errors.size() == 5);
    CHECK(errors[0].key == "meter[1].bus");
    CHECK(errors[0].line == 6);
    CHECK(errors[1].key == "meter[1].address");
    CHECK(errors[1].line == 8);
    CHECK(errors[2].key == "bus[1].baud");
    CHECK(errors[2].line == 12);
    CHECK(errors[3].key == "bus[1].parity");
    CHECK(errors[3].line == 13);
    CHECK(errors[4].key == "cloud.keepalive_s");
    CHECK(errors[4].line == 15);
}

TEST_CASE("load_config: a missing or unreadable file is one error without a line") {
    const std::string missing = testdata("/config/does-not-exist.toml");
    auto result = load_config(missing);
    REQUIRE_FALSE(result.has_value());
    REQUIRE(result.error().size() == 1);
    const ConfigError& e = result.error()[0];
    CHECK(e.line == 0);
    CHECK(e.file == missing);
    CHECK(has(e.message, "No such file or directory"));
    CHECK(e.to_string() == missing + ": cannot open: No such file or directory");

    auto dir = load_config(testdata("/config"));
    REQUIRE_FALSE(dir.has_value());
    REQUIRE(dir.error().size() == 1);
    CHECK(dir.error()[0].line == 0);
    CHECK(has(dir.error()[0].message, "Is a directory"));
}

TEST_CASE("nothing throws on garbage input") {
    const std::string inputs[] = {
        std::string("\0\x01\x02\xff\xfe", 5),
        "\xc3\x28 = 1\n",  // invalid UTF-8
        std::string(300, '[') + std::string(300, ']'),
        "a = " + std::string(1000, '[') + "\n",
        "[gateway]\nid = \"\xff\"\n",
        "[gateway]\nid = \"g\"\n[[bus]]\n[[bus]]\n[[meter]]\n[[meter]]\n",
        "[gateway.id]\nx = 1\n",
    };
    for (const std::string& text : inputs) {
        CAPTURE(text);
        ecmgw::Expected<Config, ConfigErrors> result = Config{};
        CHECK_NOTHROW(result = parse_config(text, kFile));
        CHECK_FALSE(result.has_value());
    }
}

TEST_CASE("ConfigError::to_string formats") {
    CHECK(ConfigError{"f.toml", 12, 8, "bus[1].baud", "found 2401"}.to_string() ==
          "f.toml:12:8: bus[1].baud: found 2401");
    CHECK(ConfigError{"f.toml", 0, 0, "gateway", "missing"}.to_string() ==
          "f.toml: gateway: missing");
    CHECK(ConfigError{"f.toml", 3, 1, "", "invalid TOML"}.to_string() ==
          "f.toml:3:1: invalid TOML");
}

TEST_CASE("Config::find_bus and find_meter") {
    auto result = load_config(testdata("/config/valid_full.toml"));
    REQUIRE(result.has_value());
    REQUIRE(result->find_bus("south") != nullptr);
    CHECK(result->find_bus("south")->device == "/dev/ttyS1");
    CHECK(result->find_bus("west") == nullptr);
    REQUIRE(result->find_meter("W-7") != nullptr);
    CHECK(result->find_meter("W-7")->address == "202012345678");
    CHECK(result->find_meter("W-8") == nullptr);
}

TEST_CASE("names of protocols - kinds and parities") {
    CHECK(to_string(Protocol::Dlt645_2007) == "dlt645-2007");
    CHECK(to_string(MeterKind::Electricity) == "electricity");
    CHECK(to_string(MeterKind::Water) == "water");
    CHECK(to_char(Parity::None) == 'N');
    CHECK(to_char(Parity::Even) == 'E');
    CHECK(to_char(Parity::Odd) == 'O');
}

// --- profiles, modbus meters ----------------------------------------------------------

namespace {

// [gateway] with profiles_dir set to the test profiles (lines 1-4), and kBus (lines 5-7).
std::string modbus_head(std::string_view dir = "/profiles") {
    return "[gateway]\nid = \"gw-0001\"\ntimezone = \"UTC\"\nprofiles_dir = \"" + testdata(dir) +
           "\"\n" + kBus;
}

// A modbus [[meter]] on floor1: lines 8-13 after modbus_head().
std::string modbus_meter(std::string_view id, std::string_view unit,
                         std::string_view profile = "test-meter") {
    return "[[meter]]\nid = \"" + std::string(id) +
           "\"\nbus = \"floor1\"\nprotocol = \"modbus\"\n" + "unit = " + std::string(unit) +
           "\nprofile = \"" + std::string(profile) + "\"\n";
}

}  // namespace

TEST_CASE("a modbus meter: unit - profile - and what it takes from the profile") {
    const Config c =
        parse_ok(modbus_head() + modbus_meter("E-1", "1") + modbus_meter("W-2", "2", "test-water") +
                 modbus_meter("E-3", "3", "test-plain"));
    REQUIRE(c.meters.size() == 3);
    const MeterConfig& e = c.meters[0];
    CHECK(e.protocol == Protocol::Modbus);
    CHECK(e.unit == 1);
    CHECK(e.address.empty());
    CHECK(e.profile == "test-meter");
    CHECK(e.kind == MeterKind::Electricity);
    CHECK(e.relay);                               // the profile has a [relay]
    CHECK(c.meters[1].kind == MeterKind::Water);  // from the profile
    CHECK(c.meters[1].relay);                     // its [valve]
    CHECK_FALSE(c.meters[2].relay);               // no relay in test-plain
    REQUIRE(c.profiles.size() == 3);
    REQUIRE(c.profile_of(e) != nullptr);
    CHECK(c.profile_of(e)->name == "test-meter");
    CHECK(c.gateway.profiles_dir == std::filesystem::path(testdata("/profiles")));
}

TEST_CASE("a relative profiles_dir is resolved against the config file's directory") {
    auto result = load_config(testdata("/config/modbus.toml"));
    INFO((result ? std::string() : all_errors(result.error())));
    REQUIRE(result.has_value());
    CHECK(result->gateway.profiles_dir ==
          std::filesystem::path(testdata("/config")) / "../profiles");
    CHECK(result->profiles.size() == 3);
    REQUIRE(result->meters.size() == 2);
    CHECK(result->meters[0].quantities == std::vector<std::string>{"energy_kwh"});
    CHECK(result->meters[1].unit == 7);
    const BusConfig* server = result->find_bus("server");
    REQUIRE(server != nullptr);
    CHECK(server->transport == Transport::Tcp);
    CHECK(server->host == "192.168.1.50");
    CHECK(server->port == 4001);
    CHECK(server->framing == Framing::Tcp);
    CHECK(server->device.empty());
}

TEST_CASE("profiles are only read when a meter uses modbus") {
    const Config c = parse_ok(kGateway + "profiles_dir = \"/no/such/dir\"\n" + kBus +
                              meter("E-1", "000000000101"));
    CHECK(c.profiles.empty());
    CHECK(c.gateway.profiles_dir == "/no/such/dir");
    CHECK(parse_ok(kGateway).gateway.profiles_dir == "/usr/share/ecmgw/profiles");
}

TEST_CASE("profiles_dir that cannot be read: at the key - or unplaced for the default") {
    const ConfigError e = only_error(modbus_head("/no-such-dir") + modbus_meter("E-1", "1"));
    CHECK(e.line == 4);
    CHECK(e.column == 16);
    CHECK(e.key == "gateway.profiles_dir");
    CHECK(has(e.message, "cannot read the profiles directory"));
    CHECK(has(e.message, "No such file or directory"));
    if (!std::filesystem::exists("/usr/share/ecmgw/profiles")) {
        const ConfigError d = only_error(kGateway + kBus + modbus_meter("E-1", "1"));
        CHECK(d.line == 0);
        CHECK(d.key == "gateway.profiles_dir");
        CHECK(has(d.message, "(the default; set [gateway] profiles_dir)"));
    }
    CHECK(has(only_error(kGateway + "profiles_dir = 5\n").message, "found integer 5"));
    CHECK(has(only_error(kGateway + "profiles_dir = \"\"\n").message, "found \"\""));
}

TEST_CASE("a broken profile is an error naming its own file and line - used or not") {
    const ConfigErrors errors =
        errors_of(modbus_head("/profiles_broken") + modbus_meter("E-1", "1", "good") +
                  modbus_meter("E-2", "2", "broken"));
    INFO(all_errors(errors));
    // Only the profile's own two errors: the meter naming it gets no extra one.
    REQUIRE(errors.size() == 2);
    CHECK(errors[0].file == testdata("/profiles_broken") + "/broken.toml");
    CHECK(errors[0].line == 6);
    CHECK(errors[1].line == 9);
    CHECK(errors[1].key == "point[1].adress");
}

TEST_CASE("modbus: unit instead of address - 1..247") {
    const ConfigError both =
        only_error(modbus_head() + modbus_meter("E-1", "1") + "address = \"000000000001\"\n");
    CHECK(both.line == 14);
    CHECK(both.key == "meter[1].address");
    CHECK(has(both.message, "a modbus meter is addressed by unit = 1..247"));
    const ConfigError missing = only_error(modbus_head() +
                                           "[[meter]]\nid = \"E-1\"\nbus = \"floor1\"\n"
                                           "protocol = \"modbus\"\nprofile = \"test-meter\"\n");
    CHECK(missing.line == 8);
    CHECK(missing.key == "meter[1].unit");
    CHECK(has(missing.message, "missing required key 'unit'"));
    struct Case {
        const char* unit;
        const char* message;
    };
    for (const Case& c :
         {Case{"0", "found 0 (0 is broadcast: meters never answer it), expected 1..247"},
          Case{"248", "found 248 (248..255 are reserved"},
          Case{"300", "found 300, expected 1..247"},
          Case{"\"1\"", "found string \"1\", expected an integer"}}) {
        CAPTURE(c.unit);
        const ConfigError e = only_error(modbus_head() + modbus_meter("E-1", c.unit));
        CHECK(e.line == 12);
        CHECK(e.column == 8);
        CHECK(e.key == "meter[1].unit");
        CHECK(has(e.message, c.message));
    }
}

TEST_CASE("unit on a DL/T 645 meter is an error") {
    const ConfigError e = only_error(kGateway + kBus + meter("E-1", "000000000101") + "unit = 3\n");
    CHECK(e.key == "meter[1].unit");
    CHECK(has(e.message, "a dlt645-2007 meter is addressed by 'address'"));
}

TEST_CASE("two modbus meters with the same unit on a bus") {
    const ConfigError e =
        only_error(modbus_head() + modbus_meter("E-1", "5") + modbus_meter("E-2", "5"));
    CHECK(e.line == 18);
    CHECK(e.key == "meter[2].unit");
    CHECK(has(e.message, "unit 5 is already used by meter[1] (line 12) on bus \"floor1\""));
    // A DL/T 645 address "000000000005" is another address space.
    parse_ok(modbus_head() + modbus_meter("E-1", "5") + meter("E-2", "000000000005"));
}

TEST_CASE("modbus: a profile that does not exist lists the known ones") {
    const ConfigError e = only_error(modbus_head() + modbus_meter("E-1", "1", "test-metre"));
    CHECK(e.line == 13);
    CHECK(e.column == 11);
    CHECK(e.key == "meter[1].profile");
    CHECK(has(e.message, "no profile is named \"test-metre\" (did you mean 'test-meter'?)"));
    CHECK(has(e.message, "known profiles: test-meter, test-plain, test-water"));
    const ConfigError missing = only_error(modbus_head() +
                                           "[[meter]]\nid = \"E-1\"\nbus = \"floor1\"\n"
                                           "protocol = \"modbus\"\nunit = 1\n");
    CHECK(missing.key == "meter[1].profile");
    CHECK(has(missing.message, "missing required key 'profile'"));
}

TEST_CASE("modbus: quantities are the profile's points") {
    const ConfigError e = only_error(modbus_head() + modbus_meter("E-1", "1") +
                                     "quantities = [\"energy_kwh\", \"voltage_a\"]\n");
    CHECK(e.line == 14);
    CHECK(e.key == "meter[1].quantities[2]");
    CHECK(has(e.message, "unknown quantity \"voltage_a\" (did you mean 'voltage_a_v'?)"));
    CHECK(has(e.message, "expected one of (profile \"test-meter\"): energy_kwh, voltage_a_v"));
}

TEST_CASE("modbus: relay true needs a profile that can switch - kind must match the profile") {
    const ConfigError r =
        only_error(modbus_head() + modbus_meter("E-1", "1", "test-plain") + "relay = true\n");
    CHECK(r.key == "meter[1].relay");
    CHECK(has(r.message, "profile \"test-plain\" describes no [relay] or [valve]"));
    const Config off = parse_ok(modbus_head() + modbus_meter("E-1", "1") + "relay = false\n");
    CHECK_FALSE(off.meters[0].relay);
    const ConfigError k = only_error(modbus_head() + modbus_meter("W-1", "1", "test-water") +
                                     "kind = \"electricity\"\n");
    CHECK(k.key == "meter[1].kind");
    CHECK(has(k.message, "profile \"test-water\" is a water meter"));
    CHECK(has(only_error(kGateway + kBus + meter("E-1", "000000000101") + "relay = 1\n").message,
              "found integer 1, expected true or false"));
}

TEST_CASE("a serial server bus: transport tcp with host and port") {
    const Config c = parse_ok(kGateway +
                              "[[bus]]\nname = \"s1\"\ntransport = \"tcp\"\nhost = \"10.0.0.9\"\n"
                              "port = 502\n"
                              "[[bus]]\nname = \"s2\"\ntransport = \"tcp\"\nhost = \"fd00::9\"\n"
                              "port = 502\nframing = \"rtu\"\n" +
                              kBus);
    REQUIRE(c.buses.size() == 3);
    CHECK(c.buses[0].transport == Transport::Tcp);
    CHECK(c.buses[0].framing == Framing::Rtu);
    CHECK(c.buses[1].host == "fd00::9");
    CHECK(c.buses[2].transport == Transport::Serial);
    CHECK(c.buses[2].time_sync_interval_s == 0);
}

TEST_CASE("transport tcp: host and port required - device refused - and the reverse") {
    const ConfigErrors tcp = errors_of(kGateway +
                                       "[[bus]]\nname = \"s1\"\ntransport = \"tcp\"\n"
                                       "device = \"/dev/ttyUSB0\"\n");
    INFO(all_errors(tcp));
    REQUIRE(tcp.size() == 3);
    CHECK(tcp[0].key == "bus[1].host");
    CHECK(tcp[0].line == 4);
    CHECK(has(tcp[0].message, "missing required key 'host'"));
    CHECK(tcp[1].key == "bus[1].port");
    CHECK(tcp[2].key == "bus[1].device");
    CHECK(tcp[2].line == 7);
    CHECK(has(tcp[2].message, "'device' is for a local serial port"));
    const ConfigError serial = only_error(kGateway + kBus + "host = \"10.0.0.9\"\n");
    CHECK(serial.key == "bus[1].host");
    CHECK(has(serial.message, "'host' is for a serial server (transport = \"tcp\")"));
    const ConfigError port = only_error(kGateway +
                                        "[[bus]]\nname = \"s1\"\ntransport = \"tcp\"\n"
                                        "host = \"h\"\nport = 70000\n");
    CHECK(port.key == "bus[1].port");
    CHECK(has(port.message, "found 70000, expected 1..65535"));
    const ConfigError host = only_error(kGateway +
                                        "[[bus]]\nname = \"s1\"\ntransport = \"tcp\"\n"
                                        "host = \"bad host\"\nport = 1\n");
    CHECK(host.key == "bus[1].host");
    CHECK(has(host.message, "has characters a host name cannot have"));
    const ConfigError t = only_error(kGateway + kBus + "transport = \"udp\"\n");
    CHECK(t.key == "bus[1].transport");
    CHECK(has(t.message, "found \"udp\""));
    CHECK(has(t.message, "expected \"serial\""));
}

TEST_CASE("two buses on one serial server port") {
    const std::string server = "transport = \"tcp\"\nhost = \"10.0.0.9\"\nport = 4001\n";
    const ConfigError e = only_error(kGateway + "[[bus]]\nname = \"a\"\n" + server +
                                     "[[bus]]\nname = \"b\"\n" + server);
    CHECK(e.key == "bus[2].port");
    CHECK(e.line == 13);
    CHECK(has(e.message, "server 10.0.0.9:4001 is already used by bus[1] (line 8)"));
}

TEST_CASE("framing tcp: only on a tcp transport - only for modbus meters") {
    const ConfigError serial = only_error(kGateway + kBus + "framing = \"tcp\"\n");
    CHECK(serial.key == "bus[1].framing");
    CHECK(has(serial.message, "needs transport = \"tcp\""));
    CHECK(has(only_error(kGateway + kBus + "framing = \"ascii\"\n").message, "found \"ascii\""));
    const std::string bus =
        "[[bus]]\nname = \"floor1\"\ntransport = \"tcp\"\nhost = \"h\"\n"
        "port = 502\nframing = \"tcp\"\n";
    const ConfigError dlt = only_error(kGateway + bus + meter("E-1", "000000000101"));
    CHECK(dlt.key == "meter[1].protocol");
    CHECK(dlt.line == 13);
    CHECK(has(dlt.message, "framing = \"tcp\" (Modbus TCP), which carries only modbus meters"));
    parse_ok("[gateway]\nid = \"gw-0001\"\ntimezone = \"UTC\"\nprofiles_dir = \"" +
             testdata("/profiles") + "\"\n" + bus + modbus_meter("E-1", "1"));
}

TEST_CASE("time_sync_interval_s: 0 or 60..604800") {
    CHECK(
        parse_ok(kGateway + kBus + "time_sync_interval_s = 3600\n").buses[0].time_sync_interval_s ==
        3600);
    parse_ok(kGateway + kBus + "time_sync_interval_s = 0\n");
    parse_ok(kGateway + kBus + "time_sync_interval_s = 604800\n");
    for (const char* bad : {"59", "604801", "-1"}) {
        CAPTURE(bad);
        const ConfigError e =
            only_error(kGateway + kBus + "time_sync_interval_s = " + std::string(bad) + "\n");
        CHECK(e.key == "bus[1].time_sync_interval_s");
        CHECK(e.line == 7);
        CHECK(has(e.message, "expected 0 (off) or 60..604800 s"));
    }
}

TEST_CASE("dlt645-1997: 12 digits and its own quantities") {
    const std::string m =
        "[[meter]]\nid = \"E-1\"\nbus = \"floor1\"\nprotocol = \"dlt645-1997\"\n"
        "address = \"000000000101\"\n";
    const Config c = parse_ok(kGateway + kBus + m + "quantities = [\"import_energy_kwh\"]\n");
    CHECK(c.meters[0].protocol == Protocol::Dlt645_1997);
    const ConfigError q = only_error(kGateway + kBus + m + "quantities = [\"status_word_3\"]\n");
    CHECK(q.key == "meter[1].quantities[1]");
    CHECK(has(q.message, "expected one of (dlt645-1997): "));
    CHECK(has(q.message, "import_energy_kwh"));
    const ConfigError a = only_error(kGateway + kBus +
                                     "[[meter]]\nid = \"E-1\"\nbus = \"floor1\"\n"
                                     "protocol = \"dlt645-1997\"\naddress = \"101\"\n");
    CHECK(has(a.message, "expected exactly 12 decimal digits for dlt645-1997"));
    // The 1997 standard has no remote relay command: prepaid could never cut it.
    const ConfigError r = only_error(kGateway + kBus + m + "relay = true\n");
    CHECK(r.key == "meter[1].relay");
    CHECK(r.line == 12);
    CHECK(has(r.message, "DL/T 645-1997 has no remote relay command"));
    CHECK_FALSE(parse_ok(kGateway + kBus + m + "relay = false\n").meters[0].relay);
}

TEST_CASE("cjt188: 14 digits - meter_type - its quantities - water by default") {
    const std::string m = "[[meter]]\nid = \"W-1\"\nbus = \"floor1\"\nprotocol = \"cjt188\"\n";
    const Config c = parse_ok(kGateway + kBus + m + "address = \"12345678901234\"\n" +
                              "meter_type = \"hot_water\"\nquantities = [\"volume_m3\", "
                              "\"valve_state\"]\nrelay = true\n");
    const MeterConfig& w = c.meters[0];
    CHECK(w.protocol == Protocol::Cjt188);
    CHECK(w.meter_type == MeterType::HotWater);
    CHECK(w.kind == MeterKind::Water);
    CHECK(w.relay);
    CHECK(parse_ok(kGateway + kBus + m + "address = \"12345678901234\"\n").meters[0].meter_type ==
          MeterType::ColdWater);

    const ConfigError short_one = only_error(kGateway + kBus + m + "address = \"1234\"\n");
    CHECK(short_one.line == 11);
    CHECK(short_one.key == "meter[1].address");
    CHECK(has(short_one.message, "expected exactly 14 decimal digits for cjt188"));
    CHECK(has(short_one.message, "\"00000000001234\""));
    CHECK(has(only_error(kGateway + kBus + m + "address = \"AAAAAAAAAAAAAA\"\n").message,
              "wildcard"));
    CHECK(has(only_error(kGateway + kBus + m + "address = 1234\n").message,
              "expected 14 digits as a string in double quotes, e.g. address = "
              "\"00000000001234\""));
    const ConfigError type = only_error(kGateway + kBus + m + "address = \"12345678901234\"\n" +
                                        "meter_type = \"coldwater\"\n");
    CHECK(type.key == "meter[1].meter_type");
    CHECK(has(type.message, "(did you mean 'cold_water'?)"));
    CHECK(has(type.message, "\"reclaimed_water\", \"heat\", \"gas\""));
    const ConfigError q = only_error(kGateway + kBus + m + "address = \"12345678901234\"\n" +
                                     "quantities = [\"volume\"]\n");
    CHECK(has(q.message, "did you mean 'volume_m3'?"));
    CHECK(has(q.message,
              "expected one of (cjt188): volume_m3, settlement_volume_m3, "
              "valve_state, battery_low"));
}

TEST_CASE("meter_type is only for cjt188") {
    const ConfigError e =
        only_error(kGateway + kBus + meter("E-1", "000000000101") + "meter_type = \"gas\"\n");
    CHECK(e.key == "meter[1].meter_type");
    CHECK(has(e.message, "this meter's protocol is dlt645-2007"));
}

TEST_CASE("per-meter serial settings override the bus's") {
    const Config c = parse_ok(kGateway + kBus + meter("E-1", "000000000101") +
                              "baud = 9600\nparity = \"N\"\ndata_bits = 7\nstop_bits = 2\n"
                              "timeout_ms = 1200\n" +
                              meter("E-2", "000000000102"));
    const MeterConfig& m = c.meters[0];
    CHECK(m.baud == 9600);
    CHECK(m.parity == Parity::None);
    CHECK(m.data_bits == 7);
    CHECK(m.stop_bits == 2);
    CHECK(m.timeout_ms == 1200);
    CHECK_FALSE(c.meters[1].baud.has_value());
    CHECK_FALSE(c.meters[1].parity.has_value());
    CHECK_FALSE(c.meters[1].timeout_ms.has_value());
    struct Case {
        const char* line;
        const char* key;
        const char* message;
    };
    for (const Case& k :
         {Case{"baud = 9601\n", "meter[1].baud", "found 9601, expected one of"},
          Case{"parity = \"X\"\n", "meter[1].parity", "expected \"N\", \"E\" or \"O\""},
          Case{"data_bits = 9\n", "meter[1].data_bits", "expected one of 7, 8"},
          Case{"stop_bits = 3\n", "meter[1].stop_bits", "expected one of 1, 2"},
          Case{"timeout_ms = 1\n", "meter[1].timeout_ms", "expected 50..10000 ms"}}) {
        const std::string text = k.line;
        CAPTURE(text);
        const ConfigError e = only_error(kGateway + kBus + meter("E-1", "000000000101") + text);
        CHECK(e.key == k.key);
        CHECK(e.line == 12);
        CHECK(has(e.message, k.message));
    }
}

TEST_CASE("DL/T 645 control credentials") {
    const Config c = parse_ok(kGateway + kBus + meter("E-1", "000000000101") +
                              "password = \"123456\"\nprivilege = 4\noperator = \"00000001\"\n"
                              "control_valid_s = 600\n" +
                              meter("E-2", "000000000102"));
    CHECK(c.meters[0].password == "123456");
    CHECK(c.meters[0].privilege == 4);
    CHECK(c.meters[0].operator_code == "00000001");
    CHECK(c.meters[0].control_valid_s == 600);
    CHECK(c.meters[1].password == "000000");
    CHECK(c.meters[1].privilege == 2);
    CHECK(c.meters[1].operator_code == "00000000");
    CHECK(c.meters[1].control_valid_s == 300);
    CHECK_FALSE(c.meters[1].relay);
    struct Case {
        const char* line;
        const char* key;
        const char* message;
    };
    for (const Case& k :
         {Case{"password = \"12345\"\n", "meter[1].password",
               "found \"12345\", expected 6 decimal digits"},
          Case{"password = 123456\n", "meter[1].password",
               "found integer 123456, expected 6 digits as a string in double quotes"},
          Case{"privilege = 10\n", "meter[1].privilege", "found 10, expected 0..9"},
          Case{"operator = \"0000000A\"\n", "meter[1].operator", "expected 8 decimal digits"},
          Case{"control_valid_s = 5\n", "meter[1].control_valid_s",
               "found 5, expected 10..86400 s"}}) {
        const std::string text = k.line;
        CAPTURE(text);
        const ConfigError e = only_error(kGateway + kBus + meter("E-1", "000000000101") + text);
        CHECK(e.key == k.key);
        CHECK(e.line == 12);
        CHECK(has(e.message, k.message));
    }
    const ConfigError m =
        only_error(modbus_head() + modbus_meter("E-1", "1") + "password = \"000000\"\n");
    CHECK(m.key == "meter[1].password");
    CHECK(has(m.message, "is a DL/T 645 control setting; this meter's protocol is modbus"));
}

TEST_CASE("names of the new enums") {
    CHECK(to_string(Protocol::Dlt645_1997) == "dlt645-1997");
    CHECK(to_string(Protocol::Cjt188) == "cjt188");
    CHECK(to_string(Protocol::Modbus) == "modbus");
    CHECK(to_string(MeterType::ColdWater) == "cold_water");
    CHECK(to_string(MeterType::Gas) == "gas");
    CHECK(to_string(Transport::Serial) == "serial");
    CHECK(to_string(Transport::Tcp) == "tcp");
    CHECK(to_string(Framing::Rtu) == "rtu");
    CHECK(to_string(Framing::Tcp) == "tcp");
}

// ---- [cloud]: TLS, credentials, failover, batching (h1)

namespace {

// A file in a fresh directory under the system's temp dir, removed with the object.
struct TempFile {
    std::filesystem::path path;
    TempFile(const std::string& name, const std::string& content) {
        path = std::filesystem::temp_directory_path() / "ecmgw-config-test-cloud" / name;
        std::filesystem::create_directories(path.parent_path());
        std::ofstream(path) << content;
    }
    ~TempFile() { std::filesystem::remove(path); }
};

const std::string kPemCert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const std::string kPemKey = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";

std::string quoted(const std::filesystem::path& p) { return "\"" + p.string() + "\""; }

}  // namespace

TEST_CASE("cloud uri as a list of brokers, tried in order") {
    const Config c = parse_ok(
        kGateway + "[cloud]\nuri = [\"ssl://a.example:8883\", \"mqtts://b.example:8883\"]\n");
    CHECK(c.cloud.uris ==
          std::vector<std::string>{"ssl://a.example:8883", "mqtts://b.example:8883"});
    CHECK(c.cloud.uri == "ssl://a.example:8883");
    const Config one = parse_ok(kGateway + "[cloud]\nuri = \"tcp://b:1883\"\n");
    CHECK(one.cloud.uris == std::vector<std::string>{"tcp://b:1883"});
    CHECK(parse_ok(kGateway).cloud.uris == std::vector<std::string>{"tcp://127.0.0.1:1883"});
}

TEST_CASE("cloud uri lists: bad elements, repeats, mixed TLS and plain, empty") {
    struct Case {
        const char* value;
        int column;
        const char* problem;
    };
    for (const Case& c : {Case{"[\"tcp://a:1\", \"tcp://b\"]", 21, "port is missing"},
                          Case{"[\"tcp://a:1\", \"tcp://a:1\"]", 21, "twice"},
                          Case{"[\"ssl://a:1\", \"tcp://b:1\"]", 21, "every URI to use TLS"},
                          Case{"[\"tcp://a:1\", 5]", 21, "a broker URI string"},
                          Case{"[]", 7, "expected 1 to 8 broker URIs"},
                          Case{"5", 7, "a broker URI or an array of them"}}) {
        CAPTURE(c.value);
        const ConfigError e = only_error(kGateway + "[cloud]\nuri = " + c.value + "\n");
        CHECK(e.key == "cloud.uri");
        CHECK(e.line == 5);
        CHECK(e.column == c.column);
        CHECK(has(e.message, c.problem));
    }
}

TEST_CASE("cloud TLS files are resolved, read and checked at load") {
    const TempFile ca("ca.crt", kPemCert);
    const TempFile cert("client.crt", kPemCert);
    const TempFile key("client.key", kPemKey);
    const Config c =
        parse_ok(kGateway + "[cloud]\nuri = \"ssl://b:8883\"\nca_file = " + quoted(ca.path) +
                 "\ncert_file = " + quoted(cert.path) + "\nkey_file = " + quoted(key.path) + "\n");
    CHECK(c.cloud.ca_file == ca.path);
    CHECK(c.cloud.cert_file == cert.path);
    CHECK(c.cloud.key_file == key.path);

    // Relative to the config file's directory.
    auto loaded = parse_config(kGateway + "[cloud]\nuri = \"ssl://b:8883\"\nca_file = \"ca.crt\"\n",
                               (ca.path.parent_path() / "gw.toml").string());
    REQUIRE(loaded.has_value());
    CHECK(loaded->cloud.ca_file == ca.path);
}

TEST_CASE("cloud TLS mistakes") {
    const TempFile ca("ca2.crt", kPemCert);
    const TempFile key("k.key", kPemKey);
    const TempFile der("der.crt", std::string("\x30\x82\x01\x0a", 4));
    const std::string tls = kGateway + "[cloud]\nuri = \"ssl://b:8883\"\n";
    struct Case {
        std::string text;
        const char* key;
        const char* problem;
    };
    for (const Case& c : {
             Case{kGateway + "[cloud]\nuri = \"tcp://b:1883\"\nca_file = " + quoted(ca.path) + "\n",
                  "cloud.ca_file", "is for TLS, but uri \"tcp://b:1883\" is plain"},
             Case{tls + "ca_file = \"/nonexistent/ca.crt\"\n", "cloud.ca_file",
                  "No such file or directory"},
             Case{tls + "ca_file = \"\"\n", "cloud.ca_file", "expected the path of a file"},
             Case{tls + "ca_file = " + quoted(der.path) + "\n", "cloud.ca_file",
                  "no PEM certificate"},
             Case{tls + "key_file = " + quoted(ca.path) + "\ncert_file = " + quoted(ca.path) + "\n",
                  "cloud.key_file", "no PEM private key"},
             Case{tls + "key_file = " + quoted(key.path) + "\n", "cloud.key_file",
                  "key_file without cert_file"},
         }) {
        CAPTURE(c.text);
        const ConfigError e = only_error(c.text);
        CHECK(e.key == c.key);
        CHECK(e.line == 6);
        CHECK(has(e.message, c.problem));
    }
}

TEST_CASE("cloud username and password_file") {
    const TempFile password("pw", "  s3cret\n");
    const Config c = parse_ok(kGateway + "[cloud]\nusername = \"gw-0001\"\npassword_file = " +
                              quoted(password.path) + "\n");
    CHECK(c.cloud.username == "gw-0001");
    CHECK(c.cloud.password_file == password.path);

    const TempFile blank("blank", " \n\n");
    CHECK(has(only_error(kGateway +
                         "[cloud]\nusername = \"u\"\npassword_file = " + quoted(blank.path) + "\n")
                  .message,
              "it holds no password"));
    const ConfigError alone =
        only_error(kGateway + "[cloud]\npassword_file = " + quoted(password.path) + "\n");
    CHECK(alone.key == "cloud.password_file");
    CHECK(has(alone.message, "password_file without username"));
    CHECK(only_error(kGateway + "[cloud]\nusername = \"\"\n").key == "cloud.username");
    CHECK(only_error(kGateway + "[cloud]\nusername = \"a\tb\"\n").key == "cloud.username");
}

TEST_CASE("cloud batch_max_bytes and status_interval_s") {
    const Config d = parse_ok(kGateway);
    CHECK(d.cloud.batch_max_bytes == 262144);
    CHECK(d.cloud.status_interval_s == 60);
    const Config c =
        parse_ok(kGateway + "[cloud]\nbatch_max_bytes = 65536\nstatus_interval_s = 10\n");
    CHECK(c.cloud.batch_max_bytes == 65536);
    CHECK(c.cloud.status_interval_s == 10);
    CHECK(has(only_error(kGateway + "[cloud]\nbatch_max_bytes = 1023\n").message,
              "found 1023, expected 1024..1048576 bytes"));
    CHECK(has(only_error(kGateway + "[cloud]\nbatch_max_bytes = 2000000\n").message,
              "expected 1024..1048576 bytes"));
    CHECK(only_error(kGateway + "[cloud]\nstatus_interval_s = 0\n").key ==
          "cloud.status_interval_s");
}
