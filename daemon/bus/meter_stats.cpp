#include "bus/meter_stats.hpp"

#include <algorithm>
#include <vector>

namespace ecmgw::bus {

void MeterStats::record_latency(std::chrono::microseconds latency) {
    window_[next_] = latency;
    next_ = (next_ + 1) % kWindow;
    filled_ = std::min(filled_ + 1, kWindow);
}

LatencySummary MeterStats::latency() const {
    LatencySummary s;
    s.samples = filled_;
    if (filled_ == 0) return s;
    std::vector<std::chrono::microseconds> sorted(window_.begin(),
                                                  window_.begin() + static_cast<long>(filled_));
    std::sort(sorted.begin(), sorted.end());
    // Nearest-rank percentiles.
    const auto rank = [&](std::size_t pct) { return sorted[(pct * filled_ + 99) / 100 - 1]; };
    s.p50 = rank(50);
    s.p95 = rank(95);
    s.p99 = rank(99);
    s.max = sorted.back();
    return s;
}

}  // namespace ecmgw::bus
