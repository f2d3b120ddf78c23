// Counters and answer latencies of one meter, for `ecmgw status` and the uplink.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace ecmgw::bus {

struct LatencySummary {
    std::chrono::microseconds p50{0}, p95{0}, p99{0}, max{0};
    std::size_t samples = 0;
};

class MeterStats {
  public:
    std::uint64_t transactions = 0;  // requests that expected an answer
    std::uint64_t answers = 0;
    std::uint64_t timeouts = 0;
    std::uint64_t garbled = 0;  // bytes but no valid frame (checksum, truncation)
    std::uint64_t refused = 0;  // the meter's abnormal answers (no such data, ...)
    std::uint64_t invalid = 0;  // answers that decoded to nonsense: never stored
    std::uint64_t readings = 0;
    std::int64_t last_success_ms = 0;  // Unix ms of the last answered turn; 0 = never
    bool dead = false;

    void record_latency(std::chrono::microseconds latency);
    // Over the last kWindow answers.
    LatencySummary latency() const;

    static constexpr std::size_t kWindow = 256;

  private:
    std::array<std::chrono::microseconds, kWindow> window_{};
    std::size_t filled_ = 0;
    std::size_t next_ = 0;
};

}  // namespace ecmgw::bus
