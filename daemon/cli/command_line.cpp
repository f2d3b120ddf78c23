#include "cli/command_line.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>

#include <fmt/core.h>

#include "cli/daemon_link.hpp"
#include "cli/daemon_meter_commands.hpp"
#include "cli/direct_options.hpp"
#include "cli/output.hpp"
#include "cli/read_command.hpp"
#include "control/protocol.hpp"

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

void add_socket_flag(CLI::App& cmd, std::string& socket) {
    cmd.add_option("--socket", socket,
                   "The gateway daemon's control socket (default: $ECMGW_SOCKET, else " +
                       std::string(control::kDefaultSocket) + ")");
}

void add_link_flags(CLI::App& cmd, LinkOptions& o, const LinkFlags& f) {
    add_socket_flag(cmd, o.socket);
    add_where_flags(cmd, o);
    add_meter_flags(cmd, o, f);
    add_line_flags(cmd, o, f);
}

CLI::App* add_switch(CLI::App& app, const char* name, SwitchOptions& o,
                     std::vector<std::string>& words, const char* help) {
    auto* cmd = app.add_subcommand(name, help);
    add_link_flags(*cmd, o.link, {"600", true, false});
    // One positional for "[METER] ACTION": CLI11 would give a lone ACTION to METER.
    cmd->add_option("meter_action", words,
                    "[METER] ACTION: a meter of the running daemon's config and the action, or "
                    "only the action with --device/--host")
        ->required()
        ->expected(1, 2);
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

CLI::App* add_scan(CLI::App& app, ScanOptions& o, std::string& bus) {
    auto* cmd = app.add_subcommand(
        "scan",
        "Find the meters on a bus and print them as [[meter]] config blocks: a bus of the "
        "running daemon (BUS), or a port directly (--device/--host)");
    cmd->add_option("BUS", bus, "A [[bus]] of the running daemon: scanned through it");
    add_link_flags(*cmd, o.link, {"100 for modbus, 600 otherwise", false, false});
    cmd->add_option("--from", o.from, "Modbus: first unit id")->capture_default_str();
    cmd->add_option("--to", o.to, "Modbus: last unit id")->capture_default_str();
    cmd->add_option("--bus", o.bus, "The [[bus]] name to write into the blocks")
        ->capture_default_str();
    cmd->add_flag("--search", o.search,
                  "DL/T 645: also search by partial wildcard addresses (best-effort, slow)");
    return cmd;
}

CLI::App* add_status(CLI::App& app, StatusOptions& o) {
    auto* cmd = app.add_subcommand(
        "status",
        "The running daemon: buses and their statistics, meters with their last reading and "
        "supply state, accounts, the outbox and the cloud link");
    add_socket_flag(*cmd, o.socket);
    cmd->add_flag("--json", o.json, "Print one JSON object");
    return cmd;
}

CLI::App* add_reload(CLI::App& app, ReloadOptions& o) {
    auto* cmd = app.add_subcommand(
        "reload",
        "The running daemon reads its config again (as on SIGHUP); prints what changed, or "
        "the errors of a refused config (exit 1) while the running one stays in force");
    add_socket_flag(*cmd, o.socket);
    cmd->add_option("--pid", o.pid,
                    "The daemon's pid: when no control socket answers, send it SIGHUP instead "
                    "(systemd's ExecReload= passes $MAINPID)");
    return cmd;
}

CLI::App* add_events(CLI::App& app, EventsOptions& o) {
    auto* cmd =
        app.add_subcommand("events", "The gateway's newest events, from the running daemon");
    add_socket_flag(*cmd, o.socket);
    cmd->add_option("--last", o.last, "How many of the newest events to show first")
        ->capture_default_str()
        ->check(CLI::Range(0, 1000));
    cmd->add_flag("-f,--follow", o.follow,
                  "Then print each new event as it is stored, until Ctrl-C");
    cmd->add_flag("--json", o.json, "One JSON object per event and line");
    return cmd;
}

CLI::App* add_export(CLI::App& app, ExportOptions& o) {
    auto* cmd = app.add_subcommand("export", "Export stored data from the running daemon");
    cmd->require_subcommand(1);
    auto* readings = cmd->add_subcommand(
        "readings", "The readings stored between --from and --to, oldest first");
    add_socket_flag(*readings, o.socket);
    readings
        ->add_option("--from", o.from,
                     "Start (included): RFC 3339, e.g. 2026-11-24T08:00:00+08:00, or a date "
                     "(midnight UTC)")
        ->required();
    readings->add_option("--to", o.to, "End (excluded), written the same way")->required();
    readings->add_option("--meter", o.meter, "Only this meter");
    readings->add_flag("--csv", o.csv,
                       "CSV with a header: meter,time,ts_ms,quantity,value (time RFC 3339 UTC)");
    readings->add_flag("--json", o.json, "One JSON array of objects");
    return readings;
}

CommandError usage_error(const std::string& command, const std::string& message) {
    return {kExitUsage, fmt::format("{}: {}", command, message)};
}

}  // namespace

TechnicianCommands::TechnicianCommands(CLI::App& app) {
    read_command_ = app.add_subcommand(
        "read",
        "Read one meter once: a meter of the running daemon (METER), through it; or directly "
        "on a serial port or server (--device/--host)");
    read_command_->add_option("METER", read_meter_, "A meter of the running daemon's config");
    add_link_flags(*read_command_, read_, {"600", true, true});
    relay_command_ = add_switch(app, "relay", relay_, relay_words_,
                                "Switch a meter's relay and read the state back: through the "
                                "daemon (METER on|off|auto, a local override), or directly "
                                "(--device …: on, off; DL/T 645-2007 also close-allowed, alarm, "
                                "alarm-release, keep-power, keep-power-release)");
    valve_command_ = add_switch(app, "valve", valve_, valve_words_,
                                "Open or close a water meter's valve and read it back: through "
                                "the daemon (METER open|close|auto) or directly (--device …)");
    scan_command_ = add_scan(app, scan_, scan_bus_);
    status_command_ = add_status(app, status_);
    reload_command_ = add_reload(app, reload_);
    events_command_ = add_events(app, events_);
    export_readings_ = add_export(app, export_);
}

int TechnicianCommands::run_read() const {
    if (read_meter_.empty()) {
        if (auto routed = direct_via_daemon("read", read_, options_json(read_))) return *routed;
        return cli::run_read(read_);
    }
    if (auto flag = link_flag_given(read_); !flag.empty()) {
        return report(usage_error("ecmgw read", "give a meter of the daemon's config (" +
                                                    read_meter_ + ") or " + flag +
                                                    " and the other port flags, not both"));
    }
    return read_via_daemon(read_meter_, read_);
}

int TechnicianCommands::run_switch(SupplySwitch what, const SwitchOptions& o,
                                   const std::vector<std::string>& words) const {
    const std::string command = what == SupplySwitch::Relay ? "ecmgw relay" : "ecmgw valve";
    SwitchOptions options = o;
    options.action = words.back();
    if (words.size() == 2) {
        if (auto flag = link_flag_given(o.link); !flag.empty()) {
            return report(usage_error(command, "give a meter of the daemon's config (" + words[0] +
                                                   ") or " + flag +
                                                   " and the other port flags, not both"));
        }
        return switch_via_daemon(what, words[0], options);
    }
    const std::vector<std::string> direct = what == SupplySwitch::Relay
                                                ? std::vector<std::string>{"on",
                                                                           "off",
                                                                           "close-allowed",
                                                                           "alarm",
                                                                           "alarm-release",
                                                                           "keep-power",
                                                                           "keep-power-release"}
                                                : std::vector<std::string>{"open", "close"};
    if (std::find(direct.begin(), direct.end(), options.action) == direct.end()) {
        return report(usage_error(
            command, "'" + options.action + "': expected " +
                         (what == SupplySwitch::Relay
                              ? "on, off, close-allowed, alarm, alarm-release, keep-power or "
                                "keep-power-release"
                              : "open or close") +
                         " with --device/--host, or METER " +
                         (what == SupplySwitch::Relay ? "on|off|auto" : "open|close|auto") +
                         " through the daemon"));
    }
    const std::string_view word = what == SupplySwitch::Relay ? "relay" : "valve";
    if (auto routed = direct_via_daemon(std::string(word), options.link, options_json(options))) {
        return *routed;
    }
    return cli::run_switch(what, options);
}

int TechnicianCommands::run_scan() const {
    if (scan_bus_.empty()) {
        const bool protocol_given = scan_command_->count("--protocol") > 0;
        if (auto routed = scan_port_via_daemon(scan_, protocol_given)) return *routed;
        return cli::run_scan(scan_);
    }
    if (!scan_.link.device.empty() || !scan_.link.host.empty()) {
        return report(usage_error("ecmgw scan", "give a bus of the daemon's config (" + scan_bus_ +
                                                    ") or --device/--host, not both"));
    }
    return scan_via_daemon(scan_bus_, scan_, scan_command_->count("--protocol") > 0);
}

std::optional<int> TechnicianCommands::run() const {
    if (read_command_->parsed()) return run_read();
    if (relay_command_->parsed()) return run_switch(SupplySwitch::Relay, relay_, relay_words_);
    if (valve_command_->parsed()) return run_switch(SupplySwitch::Valve, valve_, valve_words_);
    if (scan_command_->parsed()) return run_scan();
    if (status_command_->parsed()) return run_status(status_);
    if (reload_command_->parsed()) return run_reload(reload_);
    if (events_command_->parsed()) return run_events(events_);
    if (export_readings_->parsed()) return run_export(export_);
    return std::nullopt;
}

}  // namespace ecmgw::cli
