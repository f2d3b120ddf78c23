// The gateway's local time as meters keep it (the daemon sets TZ from
// [gateway] timezone before any thread starts).
#pragma once

#include <chrono>

#include "ecmgw/protocols/dlt645.hpp"

namespace ecmgw::bus {

dlt645::DateTime local_datetime(std::chrono::system_clock::time_point t);
// Broadcasting a time, or stamping a command's deadline, needs a set clock: a box
// that booted without RTC or network may think it is 1970.
bool clock_is_plausible(std::chrono::system_clock::time_point t);

}  // namespace ecmgw::bus
