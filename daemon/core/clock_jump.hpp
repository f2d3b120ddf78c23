// Notices the gateway's wall clock jumping (an NTP step after hours offline, a
// technician setting the date): between two looks, wall time moved by more (or
// less) than the steady clock did. Readings on either side of a jump are stamped
// by two different clocks, so the interval between them cannot be charged by time.
// Pure: the caller passes both clocks.
#pragma once

#include <cstdint>
#include <optional>

namespace ecmgw::core {

struct ClockJump {
    std::int64_t before_ms = 0;  // wall time at the last look before the jump
    std::int64_t after_ms = 0;   // wall time at the first look after it
    std::int64_t by_ms = 0;      // how far the wall clock moved beyond the steady one
};

class ClockJumpWatch {
  public:
    // NTP slews small errors and steps only big ones; a few minutes one way or the
    // other changes nothing that matters for charging.
    static constexpr std::int64_t kToleranceMs = 5 * 60 * 1000;

    std::optional<ClockJump> observe(std::int64_t wall_ms, std::int64_t steady_ms) {
        std::optional<ClockJump> jump;
        if (seen_) {
            const std::int64_t drift = (wall_ms - wall_ms_) - (steady_ms - steady_ms_);
            if (drift > kToleranceMs || drift < -kToleranceMs)
                jump = ClockJump{wall_ms_, wall_ms, drift};
        }
        seen_ = true;
        wall_ms_ = wall_ms;
        steady_ms_ = steady_ms;
        return jump;
    }

  private:
    bool seen_ = false;
    std::int64_t wall_ms_ = 0;
    std::int64_t steady_ms_ = 0;
};

}  // namespace ecmgw::core
