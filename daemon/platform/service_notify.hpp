// Telling the service manager how we are: READY, WATCHDOG, STOPPING, STATUS.
// Outside systemd (no NOTIFY_SOCKET) every call does nothing.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace ecmgw::platform {

void notify_ready(const std::string& status);
void notify_status(const std::string& status);
void notify_watchdog();
// A reload began; notify_ready() says when it is done.
void notify_reloading();
void notify_stopping();
// The interval at which WATCHDOG=1 must be sent, when the unit asks for it.
std::optional<std::chrono::microseconds> watchdog_interval();

}  // namespace ecmgw::platform
