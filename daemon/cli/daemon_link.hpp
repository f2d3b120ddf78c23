// The CLI's way to the running daemon (daemon/control): connect to its control
// socket, run one request, and tell "no daemon runs" (fall back to the port)
// from "a daemon runs but refused" (report it).
#pragma once

#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/direct_link.hpp"
#include "control/client.hpp"

namespace ecmgw::cli {

// The socket path a command was given (--socket), else the default.
std::string socket_or_default(const std::string& socket);

// The name of the daemon's bus on the port `bus` describes, when a daemon runs at
// `socket`; nullopt when none runs there or none of its buses is that port. An
// error when a daemon runs but refuses this user (EACCES): it may own the port.
Expected<std::optional<std::string>, CommandError> daemon_bus_on(const std::string& command,
                                                                 const std::string& socket,
                                                                 const config::BusConfig& bus);
// The same device after symlinks, or the same serial server.
bool same_port(const config::BusConfig& a, const config::BusConfig& b);
// The port the flags name, as a BusConfig (transport, device or host and port).
config::BusConfig port_of(const LinkOptions& o);
// "/dev/ttyUSB0", "tcp://10.0.0.5:4001"
std::string describe_port(const config::BusConfig& bus);

// Runs `request` at the daemon behind `socket`: the result, or the error (the
// daemon's own words and exit code; "no daemon" when none runs).
Expected<nlohmann::json, CommandError> ask_daemon(
    const std::string& command, const std::string& socket, const control::Request& request,
    const std::function<bool(const nlohmann::json&)>& on_item = {});

}  // namespace ecmgw::cli
