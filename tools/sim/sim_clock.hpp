// Simulated wall-clock time (Unix ms) as the date and time fields meters answer with.
// Meters run on UTC here: the simulator has no time zone, and the tests use UTC.
#pragma once

#include <cstdint>

#include "ecmgw/protocols/dlt645.hpp"

namespace ecmgw::sim {

dlt645::DateTime to_datetime(std::int64_t unix_ms);
std::int64_t from_datetime(const dlt645::DateTime& t);

std::uint8_t to_bcd(int value);  // 0..99
int from_bcd(std::uint8_t byte);

}  // namespace ecmgw::sim
