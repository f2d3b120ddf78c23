#include "sim/sim_clock.hpp"

#include <ctime>

namespace ecmgw::sim {

dlt645::DateTime to_datetime(std::int64_t unix_ms) {
    const auto seconds = static_cast<std::time_t>(unix_ms / 1000);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    return dlt645::DateTime{tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                            tm.tm_min,         tm.tm_sec,     tm.tm_wday};
}

std::int64_t from_datetime(const dlt645::DateTime& t) {
    std::tm tm{};
    tm.tm_year = t.year - 1900;
    tm.tm_mon = t.month - 1;
    tm.tm_mday = t.day;
    tm.tm_hour = t.hour;
    tm.tm_min = t.minute;
    tm.tm_sec = t.second;
    return static_cast<std::int64_t>(timegm(&tm)) * 1000;
}

std::uint8_t to_bcd(int value) {
    return static_cast<std::uint8_t>(((value / 10) % 10) << 4 | (value % 10));
}

int from_bcd(std::uint8_t byte) { return (byte >> 4) * 10 + (byte & 0x0F); }

}  // namespace ecmgw::sim
