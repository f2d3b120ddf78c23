// The prepaid calendar of this gateway: local time from the system's time zone
// database (the daemon sets TZ from [gateway] timezone before any thread starts),
// with the holidays and working weekend days of [prepaid].
#pragma once

#include "ecmgw/config/config.hpp"
#include "ecmgw/prepaid/calendar.hpp"

namespace ecmgw::core {

prepaid::Calendar local_calendar(const config::PrepaidConfig& prepaid);

}  // namespace ecmgw::core
