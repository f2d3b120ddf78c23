#include "cli/command_line.hpp"

#include <CLI/CLI.hpp>

#include "cli/read_command.hpp"

namespace ecmgw::cli {

namespace {

// What differs in the shared flags between the commands.
struct LinkFlags {
    const char* timeout_default;
    bool address = true;     // scan finds addresses, it is not given one
    bool quantities = true;  // only read reads quantities
};

const std::vector<std::string> kProtocols = {"dlt645-2007", "dlt645-1997", "cjt188", "modbus"};
const std::vector<int> kBauds = {300, 600, 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200};
const std::vector<std::string> kMeterTypes = {"cold_water",      "hot_water", "drinking_water",
                                              "reclaimed_water", "heat",      "gas"};

void add_where_flags(CLI::App& cmd, LinkOptions& o) {
    cmd.add_option("--device", o.device, "Serial device, e.g. /dev/ttyUSB0");
    cmd.add_option("--host", o.host, "Serial-to-Ethernet server (instead of --device)");
    cmd.add_option("--port", o.port, "TCP port of the serial server")->check(CLI::Range(1, 65535));
    cmd.add_option("--framing", o.framing, "rtu (the meters' own frames) or tcp (Modbus TCP)")
        ->capture_default_str()
        ->check(CLI::IsMember({"rtu", "tcp"}));
}

void add_line_flags(CLI::App& cmd, LinkOptions& o, const LinkFlags& f) {
    cmd.add_option("--baud", o.baud,
                   "Baud rate (default: 2400 for DL/T 645 and CJ/T 188, the profile's for modbus)")
        ->check(CLI::IsMember(kBauds));
    cmd.add_option("--parity", o.parity, "N, E or O (default: E; the profile's for modbus)")
        ->check(CLI::IsMember({"N", "E", "O"}));
    cmd.add_option("--data-bits", o.data_bits, "7 or 8 (default 8)")->check(CLI::IsMember({7, 8}));
    cmd.add_option("--stop-bits", o.stop_bits, "1 or 2 (default 1)")->check(CLI::IsMember({1, 2}));
    cmd.add_option("--timeout-ms", o.timeout_ms,
                   std::string("Response timeout in ms (default ") + f.timeout_default + ")")
        ->check(CLI::Range(10, 10000));
}

void add_meter_flags(CLI::App& cmd, LinkOptions& o, const LinkFlags& f) {
    cmd.add_option("--protocol", o.protocol, "Meter protocol")
        ->capture_default_str()
        ->check(CLI::IsMember(kProtocols));
    if (f.address) {
        cmd.add_option("--address", o.address,
                       "Meter address: 12 digits (DL/T 645), 14 (CJ/T 188); default: ask the only "
                       "meter on the bus");
    }
    cmd.add_option("--unit", o.unit, "Modbus unit id")
        ->capture_default_str()
        ->check(CLI::Range(1, 247));
    cmd.add_option("--profile", o.profile, "Modbus meter profile, e.g. eastron-sdm120");
    cmd.add_option("--profiles-dir", o.profiles_dir,
                   "Where the profiles are (default: $ECMGW_PROFILES_DIR, "
                   "/usr/share/ecmgw/profiles, or the source tree's config/profiles)");
    cmd.add_option("--meter-type", o.meter_type, "CJ/T 188 meter type")
        ->capture_default_str()
        ->check(CLI::IsMember(kMeterTypes));
    if (f.quantities) {
        cmd.add_option("--quantity", o.quantities, "Quantity to read (repeatable)");
    }
    cmd.add_flag("--json", o.json, "Print one JSON object");
}

void add_link_flags(CLI::App& cmd, LinkOptions& o, const LinkFlags& f) {
    add_where_flags(cmd, o);
    add_meter_flags(cmd, o, f);
    add_line_flags(cmd, o, f);
}

CLI::App* add_switch(CLI::App& app, const char* name, SwitchOptions& o,
                     std::vector<std::string> actions, const char* help) {
    auto* cmd = app.add_subcommand(name, help);
    add_link_flags(*cmd, o.link, {"600", true, false});
    cmd->add_option("action", o.action, actions[0] + " or " + actions[1])
        ->required()
        ->check(CLI::IsMember(actions));
    cmd->add_option("--password", o.password, "DL/T 645 password, 6 digits")->capture_default_str();
    cmd->add_option("--privilege", o.privilege, "DL/T 645 password privilege level")
        ->capture_default_str()
        ->check(CLI::Range(0, 9));
    cmd->add_option("--operator", o.operator_code, "DL/T 645 operator code, 8 digits")
        ->capture_default_str();
    cmd->add_option("--valid-s", o.valid_s, "DL/T 645: seconds the command stays valid")
        ->capture_default_str()
        ->check(CLI::Range(10, 86400));
    cmd->add_option("--timezone", o.timezone,
                    "Zone the meters' clocks keep, e.g. Asia/Shanghai (default: the system's)");
    return cmd;
}

CLI::App* add_scan(CLI::App& app, ScanOptions& o) {
    auto* cmd = app.add_subcommand(
        "scan", "Find the meters on a bus and print them as [[meter]] config blocks");
    add_link_flags(*cmd, o.link, {"100 for modbus, 600 otherwise", false, false});
    cmd->add_option("--from", o.from, "Modbus: first unit id")->capture_default_str();
    cmd->add_option("--to", o.to, "Modbus: last unit id")->capture_default_str();
    cmd->add_option("--bus", o.bus, "The [[bus]] name to write into the blocks")
        ->capture_default_str();
    cmd->add_flag("--search", o.search,
                  "DL/T 645: also search by partial wildcard addresses (best-effort, slow)");
    return cmd;
}

}  // namespace

TechnicianCommands::TechnicianCommands(CLI::App& app) {
    read_command_ =
        app.add_subcommand("read", "Read one meter once, directly on a serial port or server");
    add_link_flags(*read_command_, read_, {"600", true, true});
    relay_command_ = add_switch(app, "relay", relay_,
                                {"on", "off", "close-allowed", "alarm", "alarm-release",
                                 "keep-power", "keep-power-release"},
                                "Switch a meter's relay directly and read the state back; "
                                "DL/T 645-2007 also takes close-allowed, alarm, alarm-release, "
                                "keep-power and keep-power-release");
    valve_command_ = add_switch(app, "valve", valve_, {"open", "close"},
                                "Open or close a water meter's valve directly and read it back");
    scan_command_ = add_scan(app, scan_);
}

std::optional<int> TechnicianCommands::run() const {
    if (read_command_->parsed()) return run_read(read_);
    if (relay_command_->parsed()) return run_switch(SupplySwitch::Relay, relay_);
    if (valve_command_->parsed()) return run_switch(SupplySwitch::Valve, valve_);
    if (scan_command_->parsed()) return run_scan(scan_);
    return std::nullopt;
}

}  // namespace ecmgw::cli
