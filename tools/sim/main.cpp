// ecmgw-sim: serves simulated meters (DL/T 645-2007 and -1997, CJ/T 188, Modbus RTU) on
// one serial device, for the tests, the demo, training and bench checks without real
// meters. This file only reads the command line; the models are in sim/*_meter.*, the
// bus loop in sim/server.*. docs/simulator.md describes every option.
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "ecmgw/config/config.hpp"
#include "ecmgw/config/profile.hpp"
#include "ecmgw/protocols/serial_port.hpp"
#include "sim/bus_setup.hpp"
#include "sim/faults.hpp"
#include "sim/server.hpp"

namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

struct Options {
    std::string device;
    std::string config;
    std::string bus;
    int baud = 2400;
    std::string parity = "E";
    std::string protocol = "dlt645-2007";
    int meters = 3;
    std::string first_address;
    std::vector<std::string> addresses;
    std::string profile;
    std::string profiles_dir;
    std::string meter_type = "cold_water";
    std::vector<std::string> silent;
    std::vector<std::string> faults;
    std::vector<std::string> no_blocks;
    ecmgw::sim::Population population;
    ecmgw::sim::ServeOptions serve;
};

constexpr const char* kFooter = R"(
Meters come from a gateway config file (--config, --bus: every meter of that bus, with its
protocol, address or unit and Modbus profile) or, without one, are meters of one
--protocol at --address or --meters consecutive addresses from --first-address (default
000000000001, 00000000000001 for cjt188, unit 1 for modbus).

Faults (--fault METER:KIND[=VALUE], repeatable; METER is a meter id, an address, a Modbus
unit id, or * for every meter):
  dead             never answers (the meter hears nothing)
  drop=P           a fraction P (0..1) of its answers is lost on the wire
  corrupt=P        a fraction P of its answers has one byte flipped: checksum/CRC fails
  wrong-address=P  a fraction P of its answers comes from another address (unit)
  delay=MS         its answer delay, instead of --answer-delay-ms
The fault dice are seeded with --seed, so a run repeats exactly.

Examples:
  ecmgw-sim --device /dev/ttyUSB1 --meters 10
  ecmgw-sim --device /dev/ttyUSB1 --protocol cjt188 --address 12345678901234
  ecmgw-sim --device /dev/ttyUSB1 --protocol modbus --profile eastron-sdm120 --address 3
  ecmgw-sim --device /tmp/bus-meters --config /etc/ecmgw/ecmgw.toml --bus floor1 \
            --fault E-0003:dead --fault W-0001:drop=0.2 --wire-time
See docs/simulator.md.)";

void add_options(CLI::App& app, Options& o) {
    app.add_option("--device", o.device,
                   "Serial device to serve (e.g. the meters' end of a socat pty pair)")
        ->required();
    app.footer(kFooter);

    auto* config = app.add_option("--config", o.config,
                                  "Gateway config file: simulate the meters of one of its buses")
                       ->check(CLI::ExistingFile)
                       ->group("Meters");
    app.add_option("--bus", o.bus, "Bus of --config to simulate (default: its only bus)")
        ->needs(config)
        ->group("Meters");
    auto* protocol =
        app.add_option("--protocol", o.protocol,
                       "Without --config: the meters' protocol: dlt645-2007, dlt645-1997, "
                       "cjt188 or modbus")
            ->capture_default_str()
            ->check(CLI::IsMember({"dlt645-2007", "dlt645-1997", "cjt188", "modbus"}))
            ->group("Meters");
    auto* meters = app.add_option("--meters", o.meters,
                                  "Without --config: number of meters, with consecutive "
                                  "addresses")
                       ->capture_default_str()
                       ->check(CLI::Range(1, 1000))
                       ->group("Meters");
    auto* first = app.add_option("--first-address", o.first_address,
                                 "Without --config: address (or unit) of the first meter")
                      ->group("Meters");
    auto* address = app.add_option("--address,--unit", o.addresses,
                                   "Without --config: a meter's address (12 digits DL/T 645, "
                                   "14 CJ/T 188) or Modbus unit id (repeatable); overrides "
                                   "--meters")
                        ->group("Meters");
    auto* profile = app.add_option("--profile", o.profile,
                                   "Without --config: the Modbus meters' profile, a name in "
                                   "--profiles-dir (eastron-sdm120) or a .toml file")
                        ->group("Meters");
    app.add_option("--profiles-dir", o.profiles_dir,
                   "Where --profile looks (default: $ECMGW_PROFILES_DIR, "
                   "/usr/share/ecmgw/profiles, or the source tree's config/profiles)")
        ->needs(profile)
        ->group("Meters");
    auto* meter_type =
        app.add_option("--meter-type", o.meter_type, "Without --config: CJ/T 188 meter type")
            ->capture_default_str()
            ->check(CLI::IsMember(
                {"cold_water", "hot_water", "drinking_water", "reclaimed_water", "gas"}))
            ->group("Meters");
    for (auto* cli_only : {protocol, meters, first, address, profile, meter_type}) {
        config->excludes(cli_only);
    }
    app.add_option("--no-blocks", o.population.no_blocks,
                   "Meter (id, address or *) whose DL/T 645 block reads get the abnormal answer "
                   "'no data', so the gateway falls back to single items (repeatable)")
        ->group("Meters");

    app.add_option("--baud", o.baud, "Baud rate (default: the bus's with --config, else 2400)")
        ->group("Line");
    app.add_option("--parity", o.parity,
                   "Parity N, E or O (default: the bus's with --config, else E)")
        ->check(CLI::IsMember({"N", "E", "O"}))
        ->group("Line");
    app.add_flag("--wire-time", o.serve.wire_time,
                 "Emulate wire time: the answer starts Td after the request's last byte would "
                 "have arrived at the line's baud rate, and each byte takes one character time "
                 "(1 + data + parity + stop bits) / baud")
        ->group("Line");
    app.add_option("--answer-delay-ms", o.serve.answer_delay_ms,
                   "Delay before each answer (Td; DL/T 645 allows 20-500 ms)")
        ->capture_default_str()
        ->check(CLI::Range(0, 5000))
        ->group("Line");
    app.add_option("--wakeup", o.serve.wakeup, "FE bytes before each DL/T 645 and CJ/T 188 answer")
        ->capture_default_str()
        ->check(CLI::Range(0, 4))
        ->group("Line");
    app.add_option("--noise-every", o.serve.noise_every,
                   "Put line noise before every Nth DL/T 645 or CJ/T 188 answer (0: never)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber)
        ->group("Line");

    app.add_option("--load-kw", o.population.load_kw,
                   "Load of the first electricity meter in kW (others vary by +10% steps)")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 1000.0))
        ->group("Consumption");
    app.add_option("--flow-m3h", o.population.flow_m3h,
                   "Flow of the first water meter in m³/h while its valve is open (others vary "
                   "by +10% steps)")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 100.0))
        ->group("Consumption");
    app.add_option("--speed", o.serve.speed,
                   "Simulated time runs this many times faster than real time")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 100000.0))
        ->group("Consumption");

    app.add_option("--fault", o.faults,
                   "METER:KIND[=VALUE]: a meter's fault (repeatable; kinds below)")
        ->group("Faults");
    app.add_option("--seed", o.serve.seed, "Seed of the fault dice")
        ->capture_default_str()
        ->group("Faults");
    app.add_option("--silent", o.silent,
                   "A meter that never answers (repeatable; the same as --fault METER:dead)")
        ->group("Faults");

    app.add_option("--answer-log", o.serve.answer_log,
                   "Append each value answered as a JSON line to this file "
                   "({\"protocol\",\"meter\",\"address\" or \"unit\",\"quantity\",\"value\"})")
        ->group("Output");
    app.add_option("--hand-file", o.serve.hand_file,
                   "Watch this file for switching by hand: each line appended, \"METER on\" or "
                   "\"METER off\" (METER as in --fault), closes or opens that meter's relay or "
                   "valve with no command on the bus")
        ->group("Faults");
}

// Where --profile looks without --profiles-dir, as `ecmgw read` does: the environment,
// the installed profiles, then config/profiles of the source tree this was built in.
std::vector<std::filesystem::path> default_profiles_dirs() {
    std::vector<std::filesystem::path> dirs;
    if (const char* env = std::getenv("ECMGW_PROFILES_DIR"); env != nullptr && *env != '\0') {
        dirs.emplace_back(env);
    }
    dirs.emplace_back("/usr/share/ecmgw/profiles");
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    for (auto dir = exe.parent_path(); !ec && !dir.empty() && dir != dir.root_path();
         dir = dir.parent_path()) {
        std::error_code missing;
        if (std::filesystem::is_directory(dir / "config" / "profiles", missing)) {
            dirs.push_back(dir / "config" / "profiles");
            break;
        }
    }
    return dirs;
}

ecmgw::Expected<ecmgw::config::Profile> find_profile(const Options& o) {
    using namespace ecmgw;
    std::filesystem::path path = o.profile;
    if (path.extension() != ".toml") {
        const auto dirs = o.profiles_dir.empty()
                              ? default_profiles_dirs()
                              : std::vector<std::filesystem::path>{o.profiles_dir};
        path = dirs.front() / (o.profile + ".toml");
        for (const auto& dir : dirs) {
            std::error_code ec;
            if (std::filesystem::exists(dir / (o.profile + ".toml"), ec)) {
                path = dir / (o.profile + ".toml");
                break;
            }
        }
    }
    auto profile = config::load_profile(path);
    if (!profile) {
        std::string text;
        for (const auto& e : profile.error()) text += "\n  " + e.to_string();
        return fail("--profile " + o.profile + ":" + text);
    }
    return std::move(*profile);
}

ecmgw::Expected<ecmgw::sim::CliMeters> cli_meters(const Options& o) {
    using namespace ecmgw;
    sim::CliMeters m;
    const std::vector<std::string> protocols{"dlt645-2007", "dlt645-1997", "cjt188", "modbus"};
    m.protocol = static_cast<config::Protocol>(
        std::find(protocols.begin(), protocols.end(), o.protocol) - protocols.begin());
    const std::vector<std::string> types{"cold_water",      "hot_water", "drinking_water",
                                         "reclaimed_water", "heat",      "gas"};
    m.meter_type = static_cast<config::MeterType>(
        std::find(types.begin(), types.end(), o.meter_type) - types.begin());
    if (m.protocol == config::Protocol::Modbus) {
        if (o.profile.empty()) return fail("--protocol modbus needs --profile");
        auto profile = find_profile(o);
        if (!profile) return unexpected(profile.error());
        m.profile = std::move(*profile);
    } else if (!o.profile.empty()) {
        return fail("--profile is for --protocol modbus");
    }
    m.addresses = o.addresses;
    if (m.addresses.empty()) {
        std::string first = o.first_address;
        if (first.empty()) {
            first = m.protocol == config::Protocol::Cjt188   ? "00000000000001"
                    : m.protocol == config::Protocol::Modbus ? "1"
                                                             : "000000000001";
        }
        auto consecutive = sim::consecutive_addresses(first, o.meters);
        if (!consecutive) return unexpected(consecutive.error());
        m.addresses = std::move(*consecutive);
    }
    return m;
}

ecmgw::Expected<ecmgw::sim::SimBus> make_bus(const CLI::App& app, const Options& o) {
    using namespace ecmgw;
    sim::SimBus bus;
    if (!o.config.empty()) {
        auto config = config::load_config(o.config);
        if (!config) {
            std::string text;
            for (const auto& e : config.error()) text += "\n  " + e.to_string();
            return fail("the config has errors:" + text);
        }
        auto made = sim::bus_from_config(*config, o.bus, o.population);
        if (!made) return unexpected(made.error());
        bus = std::move(*made);
    } else {
        auto meters = cli_meters(o);
        if (!meters) return unexpected(meters.error());
        transport::LineSettings line{2400, 'E', 8, 1};
        if (meters->profile) {
            // A Modbus meter talks at its model's factory settings unless told otherwise.
            line.baud = meters->profile->default_baud;
            line.parity = config::to_char(meters->profile->default_parity);
        }
        auto made = sim::bus_from_cli(*meters, line, o.population);
        if (!made) return unexpected(made.error());
        bus = std::move(*made);
    }
    if (app.count("--baud") > 0) bus.line.baud = o.baud;
    if (app.count("--parity") > 0) bus.line.parity = o.parity[0];

    // --silent predates the fault rules and never checked its address: it still does not.
    for (const auto& s : o.silent) (void)sim::apply_faults(bus, {{s, "dead", 0}});
    std::vector<sim::FaultRule> rules;
    for (const auto& text : o.faults) {
        auto rule = sim::parse_fault(text);
        if (!rule) return unexpected(rule.error());
        rules.push_back(std::move(*rule));
    }
    if (auto applied = sim::apply_faults(bus, rules); !applied) return unexpected(applied.error());
    return bus;
}

std::string describe_faults(const ecmgw::sim::FaultSpec& f) {
    std::string out;
    auto add = [&](const std::string& s) { out += (out.empty() ? "" : ", ") + s; };
    if (f.dead) add("dead");
    if (f.drop > 0) add(fmt::format("drop={}", f.drop));
    if (f.corrupt > 0) add(fmt::format("corrupt={}", f.corrupt));
    if (f.wrong_address > 0) add(fmt::format("wrong-address={}", f.wrong_address));
    if (f.delay_ms) add(fmt::format("delay={}", *f.delay_ms));
    return out;
}

bool refuses_blocks(const ecmgw::sim::MeterModel& model) {
    if (const auto* m = std::get_if<ecmgw::sim::SimulatedMeter>(&model))
        return !m->answers_blocks();
    if (const auto* m = std::get_if<ecmgw::sim::Dlt645_1997Meter>(&model)) {
        return !m->answers_blocks();
    }
    return false;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "ecmgw-sim: simulated meters (DL/T 645-2007/-1997, CJ/T 188, Modbus RTU) on a serial "
        "device"};
    Options o;
    add_options(app, o);
    CLI11_PARSE(app, argc, argv);

    auto bus = make_bus(app, o);
    if (!bus) {
        fmt::print(stderr, "ecmgw-sim: {}\n", bus.error().message);
        return 1;
    }
    auto link = ecmgw::transport::open_serial_port(
        {o.device, bus->line.baud, bus->line.parity, bus->line.data_bits, bus->line.stop_bits});
    if (!link) {
        fmt::print(stderr, "ecmgw-sim: {}\n", link.error().message);
        return 1;
    }
    for (const auto& w : bus->warnings) fmt::print(stderr, "ecmgw-sim: warning: {}\n", w);
    fmt::print(stderr, "ecmgw-sim: serving {} meter(s) on {}{}\n", bus->meters.size(),
               (*link)->describe(), o.serve.wire_time ? " with wire time" : "");
    for (const auto& m : bus->meters) {
        const auto faults = describe_faults(m.faults);
        fmt::print(stderr, "ecmgw-sim:   {:<14} {:<12} {:<14}{}{}\n", m.id,
                   ecmgw::sim::protocol_name(m.model), ecmgw::sim::address_text(m.model),
                   refuses_blocks(m.model) ? "  no blocks" : "",
                   faults.empty() ? "" : "  faults: " + faults);
    }
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    ecmgw::sim::Server server(o.serve, std::move(*bus), **link);
    if (auto r = server.run(g_stop); !r) {
        fmt::print(stderr, "ecmgw-sim: {}\n", r.error().message);
        return 1;
    }
    return 0;
}
