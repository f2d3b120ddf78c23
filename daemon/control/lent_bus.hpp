// A job a client's request runs on a bus's lent port (BusPoller::with_link): a
// scan, a direct command. The handler waits for it; the wait ends when the job is
// done, the client hangs up, the daemon stops, or after `limit`. The job is asked
// `stop()` between its steps: each call is progress for the watchdog, and it turns
// true when the poller stops (SIGTERM, a reload restarting the bus) or the handler
// gave up waiting, so that no job holds a bus for nobody.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "control/session.hpp"

namespace ecmgw::control {

using LentJob =
    std::function<bus::CommandResult(transport::ByteLink&, const std::function<bool()>& stop)>;

// The job's result; nullopt when the answer has been given already (an error line)
// or the client is gone.
std::optional<bus::CommandResult> run_on_lent_bus(Session& s, const std::string& bus, LentJob job,
                                                  std::chrono::milliseconds limit,
                                                  std::string_view what);

}  // namespace ecmgw::control
