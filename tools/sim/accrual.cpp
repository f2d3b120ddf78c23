#include "sim/accrual.hpp"

namespace ecmgw::sim {

Accrual::Accrual(std::int64_t initial_milli, std::int64_t rate)
    : rate_ms_(initial_milli * kRateMsPerMilli), rate_(rate) {}

void Accrual::advance_to(std::int64_t now_ms, bool flowing) {
    if (now_ms_ != 0 && now_ms > now_ms_ && flowing) rate_ms_ += rate_ * (now_ms - now_ms_);
    now_ms_ = now_ms;
}

Decimal Accrual::reading(std::uint8_t decimals) const {
    std::int64_t value = milli();
    for (int d = decimals; d < 3; ++d) value /= 10;
    for (int d = 3; d < decimals; ++d) value *= 10;
    return Decimal{value, decimals};
}

}  // namespace ecmgw::sim
