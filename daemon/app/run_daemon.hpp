// `ecmgw run`: wires the store, the core, one poller per bus and the uplink,
// then serves until SIGTERM/SIGINT.
#pragma once

#include "ecmgw/config/config.hpp"

namespace ecmgw::app {

// Blocks SIGTERM, SIGINT and SIGHUP in the calling thread; call before any
// thread starts so that only the main loop receives them.
void block_signals();

// Returns the process exit code.
int run_daemon(const config::Config& cfg);

}  // namespace ecmgw::app
