// A simulated CJ/T 188 cold-water meter: volume that accrues at a flow rate while its
// valve is open, the read-data answer (901F) laid out as shared/protocols.md shows,
// valve control (A017) and read address (810A). Pure: the caller supplies the time.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "ecmgw/protocols/cjt188.hpp"
#include "sim/accrual.hpp"
#include "sim/answered_value.hpp"

namespace ecmgw::sim {

struct Cjt188Spec {
    cjt188::Address address;
    std::uint8_t type = static_cast<std::uint8_t>(cjt188::MeterType::ColdWater);
    std::int64_t initial_litres = 0;
    // The register on the last settlement day; unset: the initial volume.
    std::optional<std::int64_t> settlement_litres;
    std::int64_t flow_lph = 500;  // while the valve is open
    bool battery_low = false;
};

struct Cjt188Answer {
    cjt188::Frame frame;
    std::vector<AnsweredValue> values;  // for read data: volume, settlement, valve, battery
};

class Cjt188Meter {
  public:
    explicit Cjt188Meter(const Cjt188Spec& spec);

    void advance_to(std::int64_t now_ms);
    // The answer to `request` (its address already matched), or nothing when the frame is
    // not for a meter of this type or comes from a meter.
    std::optional<Cjt188Answer> answer(const cjt188::Frame& request);

    const cjt188::Address& address() const { return spec_.address; }
    std::uint8_t type() const { return spec_.type; }
    std::int64_t litres() const { return volume_.milli(); }
    bool valve_open() const { return valve_open_; }
    // The valve moved without a command (see SimulatedMeter::switch_by_hand).
    void switch_by_hand(bool open) { valve_open_ = open; }

  private:
    std::uint16_t status() const;
    Cjt188Answer reply(std::uint8_t function, cjt188::Bytes data) const;
    Cjt188Answer abnormal(std::uint8_t function, std::uint8_t ser) const;
    Cjt188Answer answer_read(const cjt188::Frame& request) const;
    Cjt188Answer answer_write(const cjt188::Frame& request);

    Cjt188Spec spec_;
    Accrual volume_;
    bool valve_open_ = true;
};

}  // namespace ecmgw::sim
