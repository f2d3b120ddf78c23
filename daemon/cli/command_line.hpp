// The technician's direct commands on the command line (CLI11): `read`, `relay`,
// `valve` and `scan`, which share the link flags. Kept out of main.cpp so that
// each command's flags sit next to each other and main stays the daemon's.
#pragma once

#include <optional>

#include "cli/link_options.hpp"
#include "cli/scan_command.hpp"
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
    LinkOptions read_;
    SwitchOptions relay_;
    SwitchOptions valve_;
    ScanOptions scan_;
    CLI::App* read_command_ = nullptr;
    CLI::App* relay_command_ = nullptr;
    CLI::App* valve_command_ = nullptr;
    CLI::App* scan_command_ = nullptr;
};

}  // namespace ecmgw::cli
