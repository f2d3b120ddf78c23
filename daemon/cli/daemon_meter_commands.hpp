// `ecmgw read METER`, `relay METER on|off|auto`, `valve METER open|close|auto`
// and `scan BUS`: the technician's commands on a meter or bus of the running
// daemon's config, done by the daemon on the bus it owns (daemon/control).
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/link_options.hpp"
#include "cli/scan_command.hpp"
#include "cli/switch_command.hpp"

namespace ecmgw::cli {

// Exit codes as the direct commands': 0 done, 1 usage or no daemon, 2 no answer,
// 3 refused, or (relay/valve) the read-back is not the state asked for yet.
int read_via_daemon(const std::string& meter, const LinkOptions& options);
int switch_via_daemon(SupplySwitch what, const std::string& meter, const SwitchOptions& options);
// `protocol_given`: --protocol was on the command line (else the daemon takes the
// protocol of the bus's meters).
// A direct command (--device/--host) on a port the running daemon owns goes through
// the daemon, which runs it on that bus (`command`: "read", "relay", "valve";
// `options`: its flags, cli/direct_options); nullopt when no daemon owns the port.
std::optional<int> direct_via_daemon(const std::string& command, const LinkOptions& link,
                                     const nlohmann::json& options);
// The same for `scan --device/--host`: the scan of the daemon's bus on that port.
std::optional<int> scan_port_via_daemon(const ScanOptions& o, bool protocol_given);
int scan_via_daemon(const std::string& bus, const ScanOptions& options, bool protocol_given);

// Flags that describe a port or a meter's wire settings mean nothing when the
// daemon's config says all that: the first one given, e.g. "--baud", or "".
std::string link_flag_given(const LinkOptions& options);

}  // namespace ecmgw::cli
