// The wall clock as the store and the uplink keep time: Unix milliseconds, UTC.
#pragma once

#include <chrono>
#include <cstdint>

namespace ecmgw::platform {

inline std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace ecmgw::platform
