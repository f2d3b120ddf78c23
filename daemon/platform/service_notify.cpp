#include "platform/service_notify.hpp"

#include <systemd/sd-daemon.h>
#include <time.h>

#include <string>

namespace ecmgw::platform {

void notify_ready(const std::string& status) {
    sd_notify(0, ("READY=1\nSTATUS=" + status).c_str());
}

void notify_status(const std::string& status) { sd_notify(0, ("STATUS=" + status).c_str()); }

void notify_watchdog() { sd_notify(0, "WATCHDOG=1"); }

void notify_reloading() {
    // systemd ≥ 253 wants the time the reload began, to tell this reload from the next.
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    const auto usec = static_cast<unsigned long long>(now.tv_sec) * 1'000'000ULL +
                      static_cast<unsigned long long>(now.tv_nsec) / 1000ULL;
    sd_notify(0, ("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec)).c_str());
}

void notify_stopping() { sd_notify(0, "STOPPING=1"); }

std::optional<std::chrono::microseconds> watchdog_interval() {
    std::uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0) return std::nullopt;
    return std::chrono::microseconds(usec);
}

}  // namespace ecmgw::platform
