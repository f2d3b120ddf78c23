// The technician's commands on the command line (CLI11): `read`, `relay`,
// `valve` and `scan`, which share the link flags and work directly on a port or,
// given a configured meter or bus, through the running daemon; and `status`,
// `events` and `export`, which only the daemon answers. Kept out of main.cpp so
// that each command's flags sit next to each other and main stays the daemon's.
#pragma once

#include <optional>

#include <string>
#include <vector>

#include "cli/events_command.hpp"
#include "cli/export_command.hpp"
#include "cli/link_options.hpp"
#include "cli/reload_command.hpp"
#include "cli/scan_command.hpp"
#include "cli/status_command.hpp"
#include "cli/switch_command.hpp"

namespace CLI {
class App;
}

namespace ecmgw::cli {

class TechnicianCommands {
  public:
    // Adds the subcommands to `app`; the options are bound to this object, which
    // must outlive the parse.
    explicit TechnicianCommands(CLI::App& app);
    TechnicianCommands(const TechnicianCommands&) = delete;
    TechnicianCommands& operator=(const TechnicianCommands&) = delete;

    // The exit code of the technician command that was given; nullopt when none was.
    std::optional<int> run() const;

  private:
    int run_read() const;
    int run_switch(SupplySwitch what, const SwitchOptions& o,
                   const std::vector<std::string>& words) const;
    int run_scan() const;

    LinkOptions read_;
    std::string read_meter_;  // a configured meter: read through the daemon
    SwitchOptions relay_;
    SwitchOptions valve_;
    std::vector<std::string> relay_words_;  // [METER] ACTION
    std::vector<std::string> valve_words_;
    ScanOptions scan_;
    std::string scan_bus_;  // a configured bus: scanned through the daemon
    StatusOptions status_;
    ReloadOptions reload_;
    EventsOptions events_;
    ExportOptions export_;
    CLI::App* read_command_ = nullptr;
    CLI::App* relay_command_ = nullptr;
    CLI::App* valve_command_ = nullptr;
    CLI::App* scan_command_ = nullptr;
    CLI::App* status_command_ = nullptr;
    CLI::App* reload_command_ = nullptr;
    CLI::App* events_command_ = nullptr;
    CLI::App* export_readings_ = nullptr;
};

}  // namespace ecmgw::cli
