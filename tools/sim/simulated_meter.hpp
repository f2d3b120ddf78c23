// A simulated DL/T 645-2007 electricity meter: its registers, energy that accrues with
// the load while the relay is closed, relay control, and its answers to frames,
// including block reads (DI1 = FF) unless it is set up to refuse them, and a daily freeze
// of its energy registers at each midnight of its clock (DI 05060001, 05060101).
// Pure: the caller supplies the (simulated) time.
#pragma once

#include <cstdint>
#include <optional>

#include "ecmgw/protocols/dlt645.hpp"
#include "sim/accrual.hpp"
#include "sim/dlt645_common.hpp"

namespace ecmgw::sim {

struct MeterSpec {
    dlt645::Address address;
    std::int64_t initial_energy_centikwh = 0;  // 0.01 kWh units
    std::int64_t load_w = 1000;                // constant load while the relay is closed
    // false: block DIs get the abnormal answer "no requested data", as meters without
    // block support do, so the gateway has to fall back to single items.
    bool blocks = true;
    std::int64_t voltage_dv = 2200;  // 220.0 V
};

class SimulatedMeter {
  public:
    explicit SimulatedMeter(const MeterSpec& spec);

    // Moves the meter's clock to `now_ms` (simulated Unix time, ms), accruing energy.
    void advance_to(std::int64_t now_ms);
    // The answer to `request` (already known to be addressed to this meter), or
    // nothing when the meter stays silent (broadcasts, frames from meters).
    std::optional<Answer> answer(const dlt645::Frame& request);

    const dlt645::Address& address() const { return spec_.address; }
    bool answers_blocks() const { return spec_.blocks; }
    std::int64_t energy_centikwh() const { return energy_.milli() / 10; }
    bool relay_open() const { return relay_open_; }
    // The relay moved without a command (a tenant at the meter, the meter's own logic);
    // advance_to() the moment first, so the energy before it follows the old state.
    void switch_by_hand(bool closed) { relay_open_ = !closed; }

    // The last daily freeze: when (the meter's clock, ms) and its forward active energy.
    struct Freeze {
        std::int64_t at_ms = 0;
        dlt645::FrozenEnergy energy;
    };
    const std::optional<Freeze>& last_freeze() const { return last_freeze_; }

  private:
    MeterState state() const;
    std::uint16_t status_word(dlt645::DataId di) const;
    Answer answer_read(const dlt645::Frame& request) const;
    Answer answer_control(const dlt645::Frame& request);
    Answer answer_freeze(std::uint8_t function, dlt645::DataId di) const;
    void schedule_freeze();

    MeterSpec spec_;
    Accrual energy_;
    std::int64_t clock_offset_ms_ = 0;  // set by broadcast time
    bool relay_open_ = false;
    bool alarm_ = false;
    // The meter's clock time of its next freeze; unset until the clock first runs.
    std::optional<std::int64_t> next_freeze_ms_;
    std::optional<Freeze> last_freeze_;
};

}  // namespace ecmgw::sim
