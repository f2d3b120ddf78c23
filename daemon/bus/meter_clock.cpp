#include "bus/meter_clock.hpp"

#include <ctime>

namespace ecmgw::bus {

dlt645::DateTime local_datetime(std::chrono::system_clock::time_point t) {
    const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    localtime_r(&seconds, &tm);
    return {tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
            tm.tm_min,         tm.tm_sec,     tm.tm_wday};
}

bool clock_is_plausible(std::chrono::system_clock::time_point t) {
    // Before this software existed, the clock is unset.
    constexpr std::time_t kEarliest = 1735689600;  // 2025-01-01T00:00:00Z
    const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
    return seconds >= kEarliest && seconds < kEarliest + 80LL * 365 * 86400;
}

}  // namespace ecmgw::bus
