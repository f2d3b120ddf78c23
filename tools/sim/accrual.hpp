// A meter's cumulative register: energy or volume that grows at a constant rate while
// the supply is on. Kept in rate × milliseconds, an integer, so no fraction is lost
// however finely the simulated clock is sliced.
#pragma once

#include <cstdint>

#include "ecmgw/common/decimal.hpp"

namespace ecmgw::sim {

class Accrual {
  public:
    // `initial_milli`: the register's start in thousandths of its unit (Wh of kWh, L of
    // m³); `rate`: what flows per hour in the same thousandths (W, L/h).
    Accrual(std::int64_t initial_milli, std::int64_t rate);

    // Moves the clock to `now_ms` (simulated Unix ms). The first call only sets the
    // clock; a clock that goes back accrues nothing.
    void advance_to(std::int64_t now_ms, bool flowing);

    std::int64_t milli() const { return rate_ms_ / kRateMsPerMilli; }
    // The register in its unit (kWh, m³) with `decimals` digits, cut, not rounded,
    // as a meter's display counts.
    Decimal reading(std::uint8_t decimals) const;
    std::int64_t rate() const { return rate_; }
    std::int64_t now_ms() const { return now_ms_; }

  private:
    // One thousandth (Wh, L) is rate 1 (W, L/h) for one hour.
    static constexpr std::int64_t kRateMsPerMilli = 3'600'000;
    std::int64_t rate_ms_;
    std::int64_t rate_;
    std::int64_t now_ms_ = 0;
};

}  // namespace ecmgw::sim
