// Warnings: valid settings that will probably not work on site, each at its line.
#include "ecmgw/config/config_warnings.hpp"

#include <doctest/doctest.h>

#include "config_doc.hpp"

using namespace ecmgw;
using ecmgw::test::has;
using ecmgw::test::kConfigFile;
using ecmgw::test::parse_ok;

namespace {

const std::string kHead = R"([gateway]
id = "gw-1"
data_dir = "/var/lib/ecmgw"
)";

config::ConfigErrors warnings_of(const std::string& text) {
    const config::Config cfg = parse_ok(text);
    return config::config_warnings(cfg, text, kConfigFile);
}

std::string all(const config::ConfigErrors& warnings) {
    std::string out;
    for (const auto& w : warnings) out += config::warning_to_string(w) + "\n";
    return out;
}

}  // namespace

TEST_CASE("a DL/T 645-2007 exchange: 20 bytes out, 40 back, 11 bits a byte, 20 ms turnaround") {
    const auto cfg = parse_ok(kHead + R"(
[[bus]]
name = "b"
device = "/dev/ttyUSB9"
baud = 1200

[[meter]]
id = "E-1"
bus = "b"
protocol = "dlt645-2007"
address = "000000000001"
)");
    const auto t = config::min_exchange_time(cfg, cfg.meters.front());
    REQUIRE(t.has_value());
    CHECK(t->request_bytes == 20);
    CHECK(t->answer_bytes == 40);
    CHECK(t->bits_per_byte == 11);
    CHECK(t->turnaround_ms == doctest::Approx(20.0));
    CHECK(t->total_ms == doctest::Approx(60 * 11 * 1000.0 / 1200 + 20));  // 570 ms
}

TEST_CASE("a CJ/T 188 read: 18 bytes out, 37 back") {
    const auto cfg = parse_ok(kHead + R"(
[[bus]]
name = "b"
device = "/dev/ttyUSB9"

[[meter]]
id = "W-1"
bus = "b"
protocol = "cjt188"
address = "00000000000001"
)");
    const auto t = config::min_exchange_time(cfg, cfg.meters.front());
    REQUIRE(t.has_value());
    CHECK(t->request_bytes == 18);
    CHECK(t->answer_bytes == 37);
    CHECK(t->total_ms == doctest::Approx(55 * 11 * 1000.0 / 2400 + 20));
}

TEST_CASE("the default settings of the example's buses give no warning") {
    const std::string text = kHead + R"(
[[bus]]
name = "b"
device = "/dev/ttyUSB9"

[[meter]]
id = "E-1"
bus = "b"
protocol = "dlt645-2007"
address = "000000000001"
relay = true
)";
    CHECK(all(warnings_of(text)) == "");
}

TEST_CASE("a bus timeout too short for its meters is one warning at the bus's timeout_ms") {
    const std::string text = kHead + R"(
[[bus]]
name = "b"
device = "/dev/ttyUSB9"
baud = 1200
timeout_ms = 300

[[meter]]
id = "E-1"
bus = "b"
protocol = "dlt645-2007"
address = "000000000001"
relay = true

[[meter]]
id = "E-2"
bus = "b"
protocol = "dlt645-2007"
address = "000000000002"
relay = true
)";
    const auto warnings = warnings_of(text);
    INFO(all(warnings));
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].line == 9);
    CHECK(warnings[0].column == 14);
    CHECK(warnings[0].key == "bus[1].timeout_ms");
    CHECK(warnings[0].message ==
          "timeout_ms = 300 is shorter than a dlt645-2007 exchange can take at 1200 baud 8E1: "
          "20 bytes out and up to 40 back take 550 ms on the wire, plus 20 ms for the meter to "
          "turn round, 570 ms in all; healthy meters would look dead; expected timeout_ms >= "
          "900 (2 meters: E-1, E-2)");
}

TEST_CASE("a meter's own timeout is warned about at the meter") {
    const std::string text = kHead + R"(
[[bus]]
name = "b"
device = "/dev/ttyUSB9"

[[meter]]
id = "E-1"
bus = "b"
protocol = "dlt645-2007"
address = "000000000001"
timeout_ms = 100
relay = true
)";
    const auto warnings = warnings_of(text);
    INFO(all(warnings));
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].key == "meter[1].timeout_ms");
    CHECK(warnings[0].line == 14);
}

TEST_CASE("formatting: file:line:column: warning: key: message") {
    config::ConfigError w{"ecmgw.toml", 12, 8, "bus[1].baud", "odd"};
    CHECK(config::warning_to_string(w) == "ecmgw.toml:12:8: warning: bus[1].baud: odd");
}

TEST_CASE("check_config_text: errors stay errors") {
    auto checked = config::check_config_text("[gateway]\nid = 5\n", kConfigFile);
    CHECK_FALSE(checked.has_value());
}
