// `ecmgw relay … on|off` and `ecmgw valve … open|close`: a technician switches one
// meter's supply directly (no daemon) and sees the state the meter reports after.
#pragma once

#include <string>

#include "cli/link_options.hpp"

namespace ecmgw::cli {

enum class SupplySwitch { Relay, Valve };

struct SwitchOptions {
    LinkOptions link;
    // relay: "on" | "off" (DL/T 645-2007 also "close-allowed", "alarm", "alarm-release",
    // "keep-power", "keep-power-release"); valve: "open" | "close"
    std::string action;
    // DL/T 645-2007 control credentials (0x1C), as in a [[meter]] of the config.
    std::string password = "000000";
    int privilege = 2;
    std::string operator_code = "00000000";
    int valid_s = 300;
    // The zone the meters' clocks keep, for the command's validity deadline; empty:
    // the system's.
    std::string timezone;
};

// Exit codes: 0 the state read back is the one asked for; 1 usage or port error;
// 2 no answer; 3 the meter refused, or the state read back differs (both say which).
int run_switch(SupplySwitch what, const SwitchOptions& options);

}  // namespace ecmgw::cli
