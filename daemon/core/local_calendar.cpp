#include "core/local_calendar.hpp"

#include <ctime>

namespace ecmgw::core {

prepaid::Calendar local_calendar(const config::PrepaidConfig& prepaid) {
    auto to_local = [](std::int64_t utc_ms) {
        // Floor division: instants before 1970 still land in the right second.
        std::int64_t seconds = utc_ms / 1000;
        std::int64_t ms = utc_ms % 1000;
        if (ms < 0) {
            ms += 1000;
            seconds -= 1;
        }
        const auto t = static_cast<std::time_t>(seconds);
        std::tm tm{};
        localtime_r(&t, &tm);
        prepaid::LocalTime local;
        local.year = tm.tm_year + 1900;
        local.month = tm.tm_mon + 1;
        local.day = tm.tm_mday;
        local.ms_of_day = ((tm.tm_hour * 60 + tm.tm_min) * 60 + tm.tm_sec) * 1000LL + ms;
        local.weekday = (tm.tm_wday + 6) % 7;  // tm: 0 = Sunday; ours: 0 = Monday
        return local;
    };
    return prepaid::Calendar(to_local, prepaid.holidays, prepaid.workdays);
}

}  // namespace ecmgw::core
