// A simulated DL/T 645-2007 electricity meter: its registers, energy that
// accrues with the load while the relay is closed, and its answers to frames.
// Pure: the caller supplies the (simulated) time.
#pragma once

#include <cstdint>
#include <optional>

#include "ecmgw/protocols/dlt645.hpp"

namespace ecmgw::sim {

struct MeterSpec {
    dlt645::Address address;
    std::int64_t initial_energy_centikwh = 0;  // 0.01 kWh units
    std::int64_t load_w = 1000;                // constant load while the relay is closed
};

// An answer the meter sends, and what it reported (for the answer log).
struct Answer {
    dlt645::Frame frame;
    const dlt645::DataItem* item = nullptr;  // set for normal read answers
    dlt645::Value value;
};

class SimulatedMeter {
  public:
    explicit SimulatedMeter(const MeterSpec& spec);

    // Moves the meter's clock to `now_ms` (simulated Unix time, ms), accruing energy.
    void advance_to(std::int64_t now_ms);
    // The answer to `request` (already known to be addressed to this meter), or
    // nothing when the meter stays silent (broadcasts, unknown functions).
    std::optional<Answer> answer(const dlt645::Frame& request);

    const dlt645::Address& address() const { return spec_.address; }
    std::int64_t energy_centikwh() const { return millijoules_ / kMillijoulesPerCentiKwh; }
    bool relay_open() const { return relay_open_; }

  private:
    // Energy in mJ = W × ms, so no fraction of a joule is lost at each clock step.
    static constexpr std::int64_t kMillijoulesPerCentiKwh = 36'000'000;
    dlt645::Value value_of(const dlt645::DataItem& item) const;
    Answer normal(std::uint8_t function, dlt645::Bytes data) const;
    Answer abnormal(std::uint8_t function, std::uint8_t error_word) const;
    Answer answer_read(const dlt645::Frame& request) const;
    Answer answer_control(const dlt645::Frame& request);

    MeterSpec spec_;
    std::int64_t millijoules_ = 0;
    std::int64_t now_ms_ = 0;
    std::int64_t clock_offset_ms_ = 0;  // set by broadcast time
    bool relay_open_ = false;
    bool alarm_ = false;
};

}  // namespace ecmgw::sim
