// A direct command's flags as JSON: the CLI sends them to the daemon when the port
// it names is one of the daemon's buses (control op "direct"), and the daemon runs
// the command with the same flags on that bus.
#pragma once

#include <nlohmann/json.hpp>

#include "cli/link_options.hpp"
#include "cli/switch_command.hpp"

namespace ecmgw::cli {

nlohmann::json options_json(const LinkOptions& o);
nlohmann::json options_json(const SwitchOptions& o);
// Members left out keep their defaults; one of the wrong type throws
// nlohmann::json::exception.
LinkOptions link_options_of(const nlohmann::json& j);
SwitchOptions switch_options_of(const nlohmann::json& j);

}  // namespace ecmgw::cli
