// Meter profiles: the shipped register maps load and plan as expected, and every kind
// of mistake in a profile file is reported with its line, key, and found vs expected.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "ecmgw/config/profile.hpp"

using namespace ecmgw;
using namespace ecmgw::config;

namespace {

constexpr std::string_view kFile = "p.toml";

std::filesystem::path testdata() {
    std::filesystem::path dir = ECMGW_TESTDATA;
    if (!std::filesystem::is_directory(dir / "profiles")) {
        dir = std::filesystem::path(__FILE__).parent_path().parent_path() / "testdata";
    }
    return dir;
}

std::filesystem::path shipped() { return testdata() / ".." / ".." / "config" / "profiles"; }

std::string all_errors(const ConfigErrors& errors) {
    std::string out;
    for (const auto& e : errors) out += e.to_string() + "\n";
    return out;
}

bool has(const std::string& text, std::string_view part) {
    return text.find(part) != std::string::npos;
}

// Lines 1-4 of most documents below.
const std::string kHead =
    "vendor = \"V\"\nmodel = \"M\"\nkind = \"electricity\"\nsource = \"manual v1\"\n";

// A [[point]] of 6 lines (5..10 after kHead) plus `extra` lines.
std::string point(std::string_view quantity = "energy_kwh", std::string_view address = "0x0048",
                  std::string_view type = "f32", std::string_view extra = "decimals = 2\n") {
    return "[[point]]\nquantity = \"" + std::string(quantity) +
           "\"\ntable = \"input\"\naddress = " + std::string(address) + "\ntype = \"" +
           std::string(type) + "\"\n" + std::string(extra);
}

Profile parse_ok(const std::string& text) {
    auto result = parse_profile(text, kFile, "test");
    INFO((result ? std::string() : all_errors(result.error())));
    REQUIRE(result.has_value());
    return *result;
}

ConfigErrors errors_of(const std::string& text) {
    auto result = parse_profile(text, kFile, "test");
    REQUIRE_FALSE(result.has_value());
    return result.error();
}

ConfigError only_error(const std::string& text) {
    const ConfigErrors errors = errors_of(text);
    INFO(all_errors(errors));
    REQUIRE(errors.size() == 1);
    return errors.front();
}

}  // namespace

// --- the shipped profiles -----------------------------------------------------------------

TEST_CASE("every shipped profile loads without error") {
    auto result = load_profiles(shipped());
    INFO((result ? std::string() : all_errors(result.error())));
    REQUIRE(result.has_value());
    const auto& profiles = *result;
    CHECK(profiles.size() >= 6);
    for (const char* name : {"eastron-sdm120", "eastron-sdm630", "chint-ddsu666", "chint-dtsu666",
                             "acrel-ddsy1352", "xintai-water-meter"}) {
        CAPTURE(name);
        const Profile* p = find_profile(profiles, name);
        REQUIRE(p != nullptr);
        CHECK_FALSE(p->source.empty());
        CHECK_FALSE(p->vendor.empty());
        CHECK_FALSE(p->points.empty());
    }
    for (const Profile& p : profiles) {
        CAPTURE(p.name);
        // Every point is read by the plan, in fewer requests than points.
        const auto plan = modbus::plan_reads(p.points, p.limits);
        std::size_t read = 0;
        for (const auto& r : plan) read += r.points.size();
        CHECK(read == p.points.size());
        CHECK(plan.size() < p.points.size());
    }
}

TEST_CASE("Eastron SDM120: input floats - W scaled to kW - 2400 8N1") {
    auto p = load_profile(shipped() / "eastron-sdm120.toml");
    REQUIRE(p.has_value());
    CHECK(p->name == "eastron-sdm120");
    CHECK(p->vendor == "Eastron");
    CHECK(p->kind == "electricity");
    CHECK(p->default_baud == 2400);
    CHECK(p->default_parity == Parity::None);
    CHECK(p->limits.max_registers == 80);
    const modbus::Point* v = p->find_point("voltage_a_v");
    REQUIRE(v != nullptr);
    CHECK(v->table == modbus::Table::InputRegister);
    CHECK(v->address == 0x0000);
    CHECK(v->type == modbus::ValueType::F32);
    CHECK(v->order == modbus::WordOrder::ABCD);
    CHECK(v->decimals == 1);
    const modbus::Point* power = p->find_point("active_power_kw");
    REQUIRE(power != nullptr);
    CHECK(power->address == 0x000C);
    CHECK(power->scale == Decimal{1, 3});
    // 1234.5 W on the wire is 1.2345 kW.
    const std::uint16_t words[] = {0x449A, 0x5000};
    CHECK(modbus::decode_point(*power, words)->to_string() == "1.2345");
    CHECK(p->find_point("energy_kwh")->address == 0x0156);
    CHECK(p->find_point("import_energy_kwh")->address == 0x0048);
    CHECK_FALSE(p->relay.has_value());
}

TEST_CASE("Eastron SDM630: 34 points in 5 requests - 9 without gaps - 34 one by one") {
    auto p = load_profile(shipped() / "eastron-sdm630.toml");
    REQUIRE(p.has_value());
    CHECK(p->points.size() == 34);
    CHECK(p->default_baud == 9600);
    CHECK(modbus::naive_request_count(p->points) == 34);
    CHECK(modbus::plan_reads(p->points, p->limits).size() == 5);
    modbus::PlanLimits touching = p->limits;
    touching.max_gap = 0;
    CHECK(modbus::plan_reads(p->points, touching).size() == 9);
}

TEST_CASE("CHINT DTSU666: scaled floats in holding registers") {
    auto p = load_profile(shipped() / "chint-dtsu666.toml");
    REQUIRE(p.has_value());
    const modbus::Point* ua = p->find_point("voltage_a_v");
    REQUIRE(ua != nullptr);
    CHECK(ua->table == modbus::Table::HoldingRegister);
    CHECK(ua->address == 0x2006);
    CHECK(ua->scale == Decimal{1, 1});
    // 2302.0 (0.1 V) = 230.2 V.
    const std::uint16_t words[] = {0x450F, 0xE000};
    CHECK(modbus::decode_point(*ua, words)->to_string() == "230.2");
    CHECK(p->find_point("import_energy_kwh")->address == 0x401E);
    CHECK(p->find_point("active_power_kw")->scale == Decimal{1, 4});
}

TEST_CASE("Acrel DDSY1352: integer registers and a relay written as one block") {
    auto p = load_profile(shipped() / "acrel-ddsy1352.toml");
    REQUIRE(p.has_value());
    const modbus::Point* energy = p->find_point("energy_kwh");
    REQUIRE(energy != nullptr);
    CHECK(energy->type == modbus::ValueType::U32);
    const std::uint16_t words[] = {0x0001, 0xE240};  // 123456 × 0.01
    CHECK(modbus::decode_point(*energy, words)->to_string() == "1234.56");
    REQUIRE(p->relay.has_value());
    CHECK_FALSE(p->valve.has_value());
    const auto off = modbus::plan_switch(*p->relay, false);
    REQUIRE(off.size() == 1);
    CHECK(off[0] == modbus::WriteRequest{modbus::Table::HoldingRegister, 0x0057, {1, 1}, true});
    CHECK(modbus::plan_switch(*p->relay, true)[0].values == std::vector<std::uint16_t>{1, 0});
    CHECK_FALSE(p->relay->state.has_value());  // unconfirmed: see the file's comment
}

TEST_CASE("Xintai water meter: little-endian floats - a valve and its masked state") {
    auto p = load_profile(shipped() / "xintai-water-meter.toml");
    REQUIRE(p.has_value());
    CHECK(p->kind == "water");
    const modbus::Point* flow = p->find_point("flow_m3h");
    REQUIRE(flow != nullptr);
    CHECK(flow->order == modbus::WordOrder::DCBA);
    const std::uint16_t example[] = {0x1E85, 0x0B3F};  // the protocol's worked example
    CHECK(modbus::decode_point(*flow, example)->to_string() == "0.545");
    const modbus::Point* battery = p->find_point("battery_low");
    REQUIRE(battery != nullptr);
    CHECK(battery->bit == 3);
    REQUIRE(p->valve.has_value());
    CHECK_FALSE(p->relay.has_value());
    const std::uint16_t open_low_battery[] = {0x0009};
    CHECK(*modbus::decode_switch_state(*p->valve, open_low_battery) == modbus::SwitchState::On);
    CHECK(modbus::plan_switch(*p->valve, false)[0] ==
          modbus::WriteRequest{modbus::Table::HoldingRegister, 0x001C, {2}, false});
    CHECK(modbus::plan_reads(p->points, p->limits).size() == 1);
}

// --- a valid file ----------------------------------------------------------------------------

TEST_CASE("every key of a profile - and the defaults") {
    const Profile p = parse_ok(kHead +
                               "description = \"d\"\nbaud = 4800\nparity = \"even\"\n"
                               "max_registers = 60\nmax_bits = 100\nmax_gap = 0\n" +
                               point("energy_kwh", "0x0048", "u32",
                                     "order = \"CDAB\"\nscale = \"0.01\"\nunit = \"kWh\"\n") +
                               point("status", "65535", "u16", "bit = 15\n") +
                               "[[point]]\nquantity = \"relay_closed\"\ntable = \"coil\"\n"
                               "address = 1\nunit = \"\"\n"
                               "[relay]\ntable = \"holding\"\naddress = 0x10\non = 0xAA\noff = "
                               "0x55\nprefix = [1, 2]\nunlock = [[0x0A, 1234]]\n"
                               "write_multiple = true\n"
                               "[relay.state]\ntable = \"input\"\naddress = 0x20\ntype = "
                               "\"u16\"\norder = \"BADC\"\nmask = 0x00FF\non = 0xAA\noff = 0x55\n");
    CHECK(p.name == "test");
    CHECK(p.description == "d");
    CHECK(p.default_baud == 4800);
    CHECK(p.default_parity == Parity::Even);
    CHECK(p.limits.max_registers == 60);
    CHECK(p.limits.max_bits == 100);
    CHECK(p.limits.max_gap == 0);
    REQUIRE(p.points.size() == 3);
    CHECK(p.points[0].order == modbus::WordOrder::CDAB);
    CHECK(p.points[0].scale == Decimal{1, 2});
    CHECK(p.points[0].decimals == 2);  // an integer keeps its scale's digits
    CHECK(p.points[0].unit == "kWh");
    CHECK(p.points[1].address == 65535);
    CHECK(p.points[1].bit == 15);
    CHECK(p.points[2].table == modbus::Table::Coil);
    REQUIRE(p.relay.has_value());
    CHECK(p.relay->on_value == 0xAA);
    CHECK(p.relay->prefix == std::vector<std::uint16_t>{1, 2});
    CHECK(p.relay->unlock_writes.size() == 1);
    CHECK(p.relay->write_multiple);
    REQUIRE(p.relay->state.has_value());
    CHECK(p.relay->state->order == modbus::WordOrder::BADC);
    CHECK(p.relay->state_mask == 0x00FF);

    const Profile d = parse_ok(kHead + point());
    CHECK(d.default_baud == 9600);
    CHECK(d.default_parity == Parity::None);
    CHECK(d.limits.max_registers == 125);
    CHECK(d.limits.max_bits == 2000);
    CHECK(d.limits.max_gap == 10);
    CHECK(d.points[0].order == modbus::WordOrder::ABCD);
    CHECK(d.points[0].scale == Decimal{1, 0});
}

TEST_CASE("a relay on a coil defaults to 1/0 and a bit state to 1/0") {
    const Profile p = parse_ok(kHead + point() +
                               "[relay]\ntable = \"coil\"\naddress = 3\n"
                               "[relay.state]\ntable = \"coil\"\naddress = 3\n");
    REQUIRE(p.relay.has_value());
    CHECK(p.relay->on_value == 1);
    CHECK(p.relay->off_value == 0);
    CHECK(p.relay->state_on_value == 1);
    CHECK(p.relay->state_off_value == 0);
}

// --- mistakes --------------------------------------------------------------------------------

TEST_CASE("TOML syntax error") {
    const ConfigError e = only_error("vendor = \"V\nmodel = 1\n");
    CHECK(e.file == "p.toml");
    CHECK(e.line == 1);
    CHECK(has(e.message, "invalid TOML"));
}

TEST_CASE("unknown key in a point: did-you-mean and the list") {
    const ConfigError e =
        only_error(kHead + point("energy_kwh", "0x48", "f32", "decimals = 2\nadress = 1\n"));
    CHECK(e.line == 11);
    CHECK(e.column == 1);
    CHECK(e.key == "point[1].adress");
    CHECK(has(e.message, "unknown key 'adress' (did you mean 'address'?)"));
    CHECK(
        has(e.message, "expected one of: quantity, table, address, type, order, scale, decimals"));
}

TEST_CASE("unknown top-level key and unknown relay key") {
    const ConfigError top = only_error(kHead + "baudrate = 9600\n" + point());
    CHECK(top.line == 5);
    CHECK(top.key == "baudrate");
    CHECK(has(top.message, "did you mean 'baud'?"));
    const ConfigError relay =
        only_error(kHead + point() + "[relay]\ntable = \"coil\"\naddress = 1\nonn = 1\n");
    CHECK(relay.key == "relay.onn");
    CHECK(relay.line == 14);
    CHECK(has(relay.message, "did you mean 'on'?"));
}

TEST_CASE("missing required keys point to the header line") {
    const ConfigErrors errors = errors_of("[[point]]\nquantity = \"x\"\n");
    INFO(all_errors(errors));
    REQUIRE(errors.size() == 6);
    // Top-level keys are reported at 1:1 (the document's start), the point's at its header.
    CHECK(errors[0].key == "vendor");
    CHECK(has(errors[0].message, "missing required key 'vendor'"));
    CHECK(errors[1].key == "model");
    CHECK(errors[2].key == "source");
    CHECK(errors[3].key == "kind");
    CHECK(errors[4].key == "point[1].table");
    CHECK(errors[4].line == 1);
    CHECK(errors[5].key == "point[1].address");
}

TEST_CASE("a profile with no point") {
    const ConfigError e = only_error(kHead);
    CHECK(e.key == "point");
    CHECK(has(e.message, "at least one point"));
    CHECK(has(only_error(kHead + "point = []\n").message, "found an empty array"));
    const ConfigError single = only_error(kHead + "[point]\nquantity = \"x\"\n");
    CHECK(single.line == 5);
    CHECK(has(single.message, "write [[point]]"));
}

TEST_CASE("wrong types: an address in quotes - a decimals as text - a unit as number") {
    const ConfigError a = only_error(kHead + point("energy_kwh", "\"0x48\""));
    CHECK(a.line == 8);
    CHECK(a.column == 11);
    CHECK(a.key == "point[1].address");
    CHECK(has(a.message, "found string \"0x48\", expected an integer"));
    const ConfigError d =
        only_error(kHead + point("energy_kwh", "0x48", "f32", "decimals = \"2\"\n"));
    CHECK(d.key == "point[1].decimals");
    CHECK(has(d.message, "write it without quotes: 2"));
    const ConfigError u =
        only_error(kHead + point("energy_kwh", "0x48", "f32", "decimals = 2\nunit = 5\n"));
    CHECK(u.key == "point[1].unit");
    CHECK(has(u.message, "found integer 5, expected a string"));
}

TEST_CASE("address out of 0..65535") {
    const ConfigError e = only_error(kHead + point("energy_kwh", "70000"));
    CHECK(e.line == 8);
    CHECK(e.key == "point[1].address");
    CHECK(has(e.message, "found 70000, expected 0..65535"));
    CHECK(has(only_error(kHead + point("energy_kwh", "-1")).message, "found -1"));
}

TEST_CASE("a point running past 65535") {
    const ConfigError e = only_error(kHead + point("energy_kwh", "0xFFFF", "f32"));
    CHECK(e.line == 8);
    CHECK(e.key == "point[1].address");
    CHECK(has(e.message, "found 0xFFFF: a f32 there runs past 65535"));
    CHECK(has(e.message, "expected at most 65534"));
    CHECK(has(only_error(kHead + point("energy_kwh", "0xFFFD", "f64")).message,
              "expected at most 65532"));
    parse_ok(kHead + point("energy_kwh", "0xFFFE", "f32"));
}

TEST_CASE("duplicate quantity names the first one") {
    const ConfigError e = only_error(kHead + point() + point("energy_kwh", "0x0156"));
    CHECK(e.line == 12);
    CHECK(e.column == 12);
    CHECK(e.key == "point[2].quantity");
    CHECK(has(e.message, "duplicate quantity \"energy_kwh\": point[1] (line 6) already has it"));
}

TEST_CASE("quantity names: lowercase - digits and underscore") {
    for (const char* bad : {"Energy", "energy kwh", "1st", "", "é"}) {
        CAPTURE(bad);
        const ConfigError e = only_error(kHead + point(bad));
        CHECK(e.key == "point[1].quantity");
        CHECK(has(e.message, "expected a name of lowercase letters"));
    }
}

TEST_CASE("unknown table - type and order: what is allowed - and the likely one") {
    const ConfigError t = only_error(
        kHead + "[[point]]\nquantity = \"q\"\ntable = \"holding_register\"\naddress = 1\n");
    CHECK(t.key == "point[1].table");
    CHECK(t.line == 7);
    CHECK(has(t.message, "found \"holding_register\" (did you mean 'holding'?)"));
    CHECK(has(t.message, "expected one of \"coil\", \"discrete\", \"holding\", \"input\""));

    const ConfigError f = only_error(kHead + point("q", "1", "float32"));
    CHECK(f.key == "point[1].type");
    CHECK(f.line == 9);
    CHECK(has(f.message, "found \"float32\" (did you mean 'f32'?)"));
    CHECK(has(f.message, "expected one of u16, s16, u32, s32, u64, s64, f32, f64, bcd16, bcd32"));
    CHECK(has(only_error(kHead + point("q", "1", "uint16", "")).message, "did you mean 'u16'?"));

    const ConfigError o =
        only_error(kHead + point("q", "1", "f32", "decimals = 1\norder = \"cdab\"\n"));
    CHECK(o.key == "point[1].order");
    CHECK(has(o.message, "write it in capitals: \"CDAB\""));
    CHECK(has(
        only_error(kHead + point("q", "1", "f32", "decimals = 1\norder = \"little\"\n")).message,
        "expected one of \"ABCD\", \"CDAB\", \"BADC\", \"DCBA\""));
}

TEST_CASE("scale must be a non-zero decimal string") {
    const ConfigError f =
        only_error(kHead + point("q", "1", "f32", "decimals = 1\nscale = 0.001\n"));
    CHECK(f.key == "point[1].scale");
    CHECK(f.line == 11);
    CHECK(has(f.message, "found floating-point number 0.001, expected a decimal number in quotes"));
    CHECK(has(f.message, "binary float"));
    CHECK(has(only_error(kHead + point("q", "1", "u16", "scale = 10\n")).message,
              "found integer 10"));
    for (const char* bad :
         {"abc", "0", "0.000", "1.", ".", "1e3", "--1", "1.2.3", "1234567890123456789"}) {
        CAPTURE(bad);
        const ConfigError e =
            only_error(kHead + point("q", "1", "u16", "scale = \"" + std::string(bad) + "\"\n"));
        CHECK(e.key == "point[1].scale");
        CHECK(has(e.message, "expected a non-zero decimal number in quotes"));
    }
    for (const char* good : {"-1", "+2", ".5", "0.0001", "1000"}) {
        CAPTURE(good);
        parse_ok(kHead + point("q", "1", "u16", "scale = \"" + std::string(good) + "\"\n"));
    }
}

TEST_CASE("decimals: required for floats - refused for integers - 0..9") {
    const ConfigError missing = only_error(kHead + point("q", "1", "f32", ""));
    CHECK(missing.key == "point[1].decimals");
    CHECK(missing.line == 5);
    CHECK(has(missing.message, "missing required key 'decimals'"));
    const ConfigError integer = only_error(kHead + point("q", "1", "u32", "decimals = 2\n"));
    CHECK(integer.key == "point[1].decimals");
    CHECK(has(integer.message, "applies to f32 and f64 only"));
    CHECK(has(only_error(kHead + point("q", "1", "f64", "decimals = 10\n")).message,
              "found 10, expected 0..9"));
}

TEST_CASE("bit: only in a u16 - 0..15 - without scale or decimals") {
    CHECK(has(only_error(kHead + point("q", "1", "f32", "decimals = 1\nbit = 1\n")).message,
              "picks a flag out of a u16 register; this point's type is f32"));
    CHECK(has(only_error(kHead + point("q", "1", "u16", "bit = 16\n")).message,
              "found 16, expected 0..15"));
    const ConfigError scale =
        only_error(kHead + point("q", "1", "u16", "bit = 1\nscale = \"2\"\n"));
    CHECK(scale.key == "point[1].scale");
    CHECK(has(scale.message, "does not apply to a flag"));
}

TEST_CASE("coils and discrete inputs take no type - order - scale or decimals") {
    const ConfigErrors errors =
        errors_of(kHead +
                  "[[point]]\nquantity = \"q\"\ntable = \"coil\"\naddress = 1\ntype = \"u16\"\n"
                  "scale = \"2\"\n");
    INFO(all_errors(errors));
    REQUIRE(errors.size() == 2);
    CHECK(errors[0].key == "point[1].type");
    CHECK(has(errors[0].message, "'type' does not apply to a coil (one bit, read as 0 or 1)"));
    CHECK(errors[1].key == "point[1].scale");
}

TEST_CASE("kind - baud - parity and limits") {
    const ConfigError kind =
        only_error("vendor = \"V\"\nmodel = \"M\"\nkind = \"gas\"\nsource = \"s\"\n" + point());
    CHECK(kind.key == "kind");
    CHECK(kind.line == 3);
    CHECK(has(kind.message, "found \"gas\", expected one of \"electricity\", \"water\""));
    CHECK(has(only_error(kHead + "baud = 9601\n" + point()).message,
              "found 9601, expected one of 300, 600"));
    CHECK(has(only_error(kHead + "parity = \"X\"\n" + point()).message,
              "expected \"N\", \"E\" or \"O\""));
    CHECK(has(only_error(kHead + "max_registers = 126\n" + point()).message,
              "found 126, expected 1..125 registers"));
    CHECK(has(only_error(kHead + "max_bits = 0\n" + point()).message,
              "found 0, expected 1..2000 bits"));
    CHECK(has(only_error(kHead + "max_gap = 125\n" + point()).message,
              "found 125, expected 0..124 registers"));
    CHECK(has(only_error(kHead + "vendor2 = 1\n" + point()).message, "unknown key 'vendor2'"));
    CHECK(has(only_error(kHead + "description = 5\n" + point()).message, "expected a string"));
    const ConfigError empty = only_error(
        "vendor = \"\"\nmodel = \"M\"\nkind = \"electricity\"\n"
        "source = \"s\"\n" +
        point());
    CHECK(empty.key == "vendor");
    CHECK(has(empty.message, "found \"\", expected some text"));
}

TEST_CASE("max_registers smaller than the widest point") {
    const ConfigError e = only_error(kHead + "max_registers = 2\n" + point("q", "1", "f64"));
    CHECK(e.key == "max_registers");
    CHECK(e.line == 5);
    CHECK(has(e.message, "point[1] (q, f64) needs 4 registers in one read"));
}

TEST_CASE("a relay on a coil with values other than 0 and 1") {
    const ConfigError e =
        only_error(kHead + point() + "[relay]\ntable = \"coil\"\naddress = 1\non = 0xFF00\n");
    CHECK(e.key == "relay.on");
    CHECK(e.line == 14);
    CHECK(e.column == 6);
    CHECK(has(e.message, "found 65280, expected 0 or 1: a coil or discrete input is one bit"));
    CHECK(has(e.message, "0xFF00 on the wire itself"));
}

TEST_CASE("a relay on a holding register needs both values - and they must differ") {
    const ConfigErrors missing =
        errors_of(kHead + point() + "[relay]\ntable = \"holding\"\naddress = 1\n");
    REQUIRE(missing.size() == 2);
    CHECK(missing[0].key == "relay.on");
    CHECK(missing[0].line == 11);
    CHECK(has(missing[0].message, "missing required key 'on'"));
    CHECK(missing[1].key == "relay.off");
    const ConfigError same = only_error(
        kHead + point() + "[relay]\ntable = \"holding\"\naddress = 1\non = 5\noff = 5\n");
    CHECK(same.key == "relay.off");
    CHECK(has(same.message, "'on' and 'off' are the same value"));
    CHECK(has(only_error(kHead + point() +
                         "[relay]\ntable = \"holding\"\naddress = 1\non = 70000\noff = 0\n")
                  .message,
              "found 70000, expected 0..65535"));
}

TEST_CASE("a relay cannot be written to input registers or discrete inputs") {
    const ConfigError e =
        only_error(kHead + point() + "[relay]\ntable = \"input\"\naddress = 1\non = 1\noff = 0\n");
    CHECK(e.key == "relay.table");
    CHECK(has(e.message, "found \"input\": input cannot be written"));
    CHECK(has(e.message, "expected one of \"coil\", \"holding\""));
}

TEST_CASE("relay options: prefix - unlock and write_multiple") {
    CHECK(has(only_error(kHead + point() + "[relay]\ntable = \"coil\"\naddress = 1\nprefix = [1]\n")
                  .message,
              "'prefix' writes holding registers"));
    CHECK(has(only_error(kHead + point() +
                         "[relay]\ntable = \"holding\"\naddress = 0\non = 1\noff = 0\n"
                         "prefix = [1]\n")
                  .message,
              "would start below 0"));
    const ConfigError p = only_error(kHead + point() +
                                     "[relay]\ntable = \"holding\"\naddress = 5\non = 1\noff = 0\n"
                                     "prefix = [1, \"x\"]\n");
    CHECK(p.key == "relay.prefix[2]");
    CHECK(has(p.message, "found string \"x\", expected a register value 0..65535"));
    const ConfigError u = only_error(kHead + point() +
                                     "[relay]\ntable = \"holding\"\naddress = 5\non = 1\noff = 0\n"
                                     "unlock = [[1, 2], [3]]\n");
    CHECK(u.key == "relay.unlock[2]");
    CHECK(has(u.message, "expected [register, value], both 0..65535"));
    CHECK(has(only_error(kHead + point() +
                         "[relay]\ntable = \"holding\"\naddress = 5\non = 1\noff = 0\n"
                         "write_multiple = \"true\"\n")
                  .message,
              "write it without quotes: true"));
    CHECK(has(only_error(kHead + "relay = 5\n" + point()).message,
              "found integer 5, expected a table"));
}

TEST_CASE("relay state: one u16 register or a bit - values distinct under the mask") {
    const std::string relay = "[relay]\ntable = \"holding\"\naddress = 5\non = 1\noff = 0\n";
    const ConfigError t = only_error(kHead + point() + relay +
                                     "[relay.state]\ntable = \"holding\"\naddress = 6\n"
                                     "type = \"u32\"\non = 1\noff = 0\n");
    CHECK(t.key == "relay.state.type");
    CHECK(has(t.message, "expected \"u16\": a state is one register"));
    const ConfigError m = only_error(kHead + point() + relay +
                                     "[relay.state]\ntable = \"holding\"\naddress = 6\n"
                                     "mask = 0x0001\non = 0x0003\noff = 0x0001\n");
    CHECK(m.key == "relay.state.off");
    CHECK(has(m.message, "the same value under the mask"));
    CHECK(has(only_error(kHead + point() + relay +
                         "[relay.state]\ntable = \"coil\"\naddress = 6\nmask = 1\n")
                  .message,
              "'mask' does not apply to a bit"));
    CHECK(has(only_error(kHead + point() + relay +
                         "[relay.state]\ntable = \"holding\"\naddress = 6\nmask = 0\non = 1\n"
                         "off = 2\n")
                  .message,
              "found 0, expected 1..65535"));
    CHECK(has(only_error(kHead + point() + relay + "[relay.state]\naddress = 6\n").message,
              "missing required key 'table'"));
}

TEST_CASE("a water meter switches a valve - an electricity meter a relay") {
    const ConfigError e = only_error(kHead + point() + "[valve]\ntable = \"coil\"\naddress = 1\n");
    CHECK(e.key == "valve");
    CHECK(has(e.message, "a electricity meter switches a relay: write [relay], not [valve]"));
    const ConfigError w =
        only_error("vendor = \"V\"\nmodel = \"M\"\nkind = \"water\"\nsource = \"s\"\n" +
                   point("volume_m3") + "[relay]\ntable = \"coil\"\naddress = 1\n");
    CHECK(w.key == "relay");
    CHECK(has(w.message, "switches a valve: write [valve]"));
}

TEST_CASE("many mistakes are reported together - in file order") {
    const ConfigErrors errors =
        errors_of(kHead + "baud = 1\n" + point("q", "70000", "float") + point("q", "1", "f32", ""));
    INFO(all_errors(errors));
    REQUIRE(errors.size() == 5);
    CHECK(errors[0].key == "baud");
    CHECK(errors[1].key == "point[1].address");
    CHECK(errors[2].key == "point[1].type");
    CHECK(errors[3].key == "point[2].decimals");  // at its header, line 12
    CHECK(errors[4].key == "point[2].quantity");
    for (std::size_t i = 1; i < errors.size(); ++i) CHECK(errors[i - 1].line <= errors[i].line);
}

TEST_CASE("the profile's name must be usable by meters") {
    const ConfigErrors errors = [] {
        auto r = parse_profile(kHead + point(), "my profile.toml", "my profile");
        REQUIRE_FALSE(r.has_value());
        return r.error();
    }();
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].line == 0);
    CHECK(has(errors[0].message, "\"my profile\" is not 1 to 64 characters"));
}

// --- files and directories -------------------------------------------------------------------

TEST_CASE("load_profile: the name is the file's stem - a missing file is one error") {
    auto p = load_profile(testdata() / "profiles" / "test-meter.toml");
    REQUIRE(p.has_value());
    CHECK(p->name == "test-meter");
    auto missing = load_profile(testdata() / "profiles" / "nope.toml");
    REQUIRE_FALSE(missing.has_value());
    REQUIRE(missing.error().size() == 1);
    CHECK(missing.error()[0].line == 0);
    CHECK(has(missing.error()[0].message, "No such file or directory"));
}

TEST_CASE("load_profiles: a broken file fails the load and names its file and line") {
    const auto dir = testdata() / "profiles_broken";
    auto all = load_profiles(dir);
    REQUIRE_FALSE(all.has_value());
    REQUIRE(all.error().size() == 2);  // the address it lacks, and the unknown key
    for (const auto& e : all.error()) CHECK(e.file == (dir / "broken.toml").string());
    CHECK(all.error()[0].line == 6);  // the [[point]] header: add address there
    CHECK(all.error()[1].line == 9);
    CHECK(has(all.error()[0].to_string() + all.error()[1].to_string(),
              "broken.toml:9:1: point[1].adress: unknown key 'adress' (did you mean 'address'?)"));
    const ProfileLoad partial = load_profiles_partial(dir);
    REQUIRE(partial.profiles.size() == 1);  // README.txt is not a profile
    CHECK(partial.profiles[0].name == "good");
    CHECK(partial.errors.size() == 2);
}

TEST_CASE("load_profiles: a missing directory is one error without a line") {
    auto result = load_profiles(testdata() / "no-such-dir");
    REQUIRE_FALSE(result.has_value());
    REQUIRE(result.error().size() == 1);
    CHECK(result.error()[0].line == 0);
    CHECK(has(result.error()[0].message, "cannot read the profiles directory"));
}

TEST_CASE("find_profile") {
    auto profiles = load_profiles(testdata() / "profiles");
    REQUIRE(profiles.has_value());
    REQUIRE(profiles->size() == 3);
    CHECK((*profiles)[0].name == "test-meter");  // sorted by file name
    CHECK(find_profile(*profiles, "test-water") != nullptr);
    CHECK(find_profile(*profiles, "test") == nullptr);
}

TEST_CASE("nothing throws on garbage input") {
    const std::string inputs[] = {
        std::string("\0\x01\x02\xff\xfe", 5),
        "\xc3\x28 = 1\n",
        std::string(300, '[') + std::string(300, ']'),
        "point = " + std::string(1000, '[') + "\n",
        kHead + "[[point]]\n[[point]]\n[relay]\n[relay.state]\n[valve]\n",
        kHead + "point = [1, \"x\", {}]\nrelay = []\n",
        kHead +
            "[[point]]\nquantity = \"q\"\ntable = \"input\"\naddress = 9223372036854775807\n"
            "type = \"u64\"\n",
        kHead + point("q", "1", "f32", "decimals = -9223372036854775807\n"),
        kHead + point("q", "1", "u16", "scale = \"-\"\n"),
    };
    for (const std::string& text : inputs) {
        CAPTURE(text);
        ecmgw::Expected<Profile, ConfigErrors> result = Profile{};
        CHECK_NOTHROW(result = parse_profile(text, kFile, "test"));
        CHECK_FALSE(result.has_value());
    }
}
