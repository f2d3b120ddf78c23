// `ecmgw events [--follow]`: the gateway's events (supply switched, low balance,
// quarantined readings, overrides, …) as the daemon stores them; with --follow,
// each new one as it is stored, until Ctrl-C.
#pragma once

#include <string>

namespace ecmgw::cli {

struct EventsOptions {
    std::string socket;
    int last = 10;
    bool follow = false;
    bool json = false;  // one JSON object a line (JSON Lines), flushed at once
};

int run_events(const EventsOptions& options);

}  // namespace ecmgw::cli
