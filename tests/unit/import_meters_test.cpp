// import-meters' reading of spreadsheet exports: what it accepts, what it refuses and
// the CSV line each problem is reported at.
#include <doctest/doctest.h>

#include "cli/config_commands.hpp"

using ecmgw::cli::meters_from_csv;

static bool has_substr(const std::string& s, std::string_view part) {
    return s.find(part) != std::string::npos;
}

namespace {

std::string problems(const ecmgw::cli::ImportedMeters& m) {
    std::string out;
    for (const auto& p : m.problems) out += p + "\n";
    return out;
}

}  // namespace

TEST_CASE("a plain export becomes [[meter]] entries, each naming its CSV line") {
    const auto m = meters_from_csv(
        "id,bus,protocol,address,relay,account,note\n"
        "E-0101,floor1,dlt645-2007,000000000101,yes,A-101,room 101\n"
        "W-0101,floor1,cjt188,12345678901234,no,,\n",
        "m.csv");
    INFO(problems(m));
    REQUIRE(m.problems.empty());
    CHECK(m.meters == 2);
    CHECK(m.toml ==
          "\n[[meter]]  # m.csv line 2: room 101\nid = \"E-0101\"\nbus = \"floor1\"\n"
          "protocol = \"dlt645-2007\"\naddress = \"000000000101\"\nrelay = true\n"
          "account = \"A-101\"\n"
          "\n[[meter]]  # m.csv line 3\nid = \"W-0101\"\nbus = \"floor1\"\n"
          "protocol = \"cjt188\"\naddress = \"12345678901234\"\nrelay = false\n");
    CHECK(m.csv_line_of.front() == 2);
    CHECK(m.csv_line_of.back() == 3);
    CHECK(m.bus_names == std::vector<std::string>{"floor1"});
}

TEST_CASE("semicolons, quotes, CRLF, a byte order mark and column names as people write them") {
    const auto m = meters_from_csv(
        "\xEF\xBB\xBFId;Bus;Protocol;Unit;Profile;Quantities;Interval S\r\n"
        "M-1;annex;modbus;3;eastron-sdm120;\"energy_kwh; voltage_a_v\";60\r\n",
        "m.csv");
    INFO(problems(m));
    REQUIRE(m.problems.empty());
    CHECK(m.toml ==
          "\n[[meter]]  # m.csv line 2\nid = \"M-1\"\nbus = \"annex\"\nprotocol = \"modbus\"\n"
          "unit = 3\nprofile = \"eastron-sdm120\"\n"
          "quantities = [\"energy_kwh\", \"voltage_a_v\"]\ninterval_s = 60\n");
}

TEST_CASE("addresses that lost their leading zeros are padded, with a note") {
    const auto m = meters_from_csv("id,bus,protocol,address\nE-1,b,dlt645-2007,101\n", "m.csv");
    REQUIRE(m.problems.empty());
    CHECK(has_substr(m.toml, "address = \"000000000101\""));
    REQUIRE(m.notes.size() == 1);
    CHECK(m.notes[0] ==
          "m.csv:2: address 101 padded to 12 digits (the spreadsheet dropped its leading zeros)");
}

TEST_CASE("bad rows are reported by line and column, and nothing is produced") {
    const auto m = meters_from_csv(
        "id,bus,protocol,address,relay,interval_s\n"
        "E-1,b,dlt645-2007,2.02012E+11,yes,60\n"
        "E-2,,dlt645-2007,000000000002,maybe,sixty\n",
        "m.csv");
    CHECK(problems(m) ==
          "m.csv:2: address: found \"2.02012E+11\": the spreadsheet wrote the address as a "
          "number in scientific notation and lost its digits; format the column as text and "
          "export again\n"
          "m.csv:3: bus: empty; every meter needs its bus\n"
          "m.csv:3: relay: found \"maybe\", expected yes or no (true/false, 1/0)\n"
          "m.csv:3: interval_s: found \"sixty\", expected a whole number\n");
    CHECK(m.toml.empty());
}

TEST_CASE("unknown and missing columns are header problems") {
    const auto m = meters_from_csv("id,bus,adress\nE-1,b,000000000001\n", "m.csv");
    REQUIRE(m.problems.size() == 2);
    CHECK(
        m.problems[0].starts_with("m.csv:1: adress: unknown column; expected columns among: id, "
                                  "bus, protocol, address"));
    CHECK(m.problems[1] == "m.csv:1: no 'protocol' column; every meter needs one");
}

TEST_CASE("an unclosed quote is one problem") {
    const auto m = meters_from_csv("id,bus,protocol\n\"E-1,b,modbus\n", "m.csv");
    CHECK(problems(m) == "m.csv:2: a quoted cell is never closed (a missing '\"')\n");
}
