// CJ/T 188-2004 water meters: reads 901F (cumulative and settlement volume,
// status with valve and battery), switches the valve (A017) and reads its state.
#pragma once

#include "bus/meter_driver.hpp"
#include "ecmgw/protocols/cjt188.hpp"

namespace ecmgw::bus {

struct Cjt188MeterSpec {
    std::string id;
    cjt188::Address address;
    cjt188::MeterType type = cjt188::MeterType::ColdWater;
    std::optional<transport::LineSettings> line;
    std::optional<std::chrono::milliseconds> timeout;
    bool valve_control = false;           // the gateway may open and close the valve
    std::vector<std::string> quantities;  // to keep; empty = all that one 901F read gives
};

// Quantities a CJ/T 188 turn yields: volume_m3, settlement_volume_m3,
// valve_state (1 open, 0 closed; absent when abnormal) and battery_low (1/0).
class Cjt188Driver final : public MeterDriver {
  public:
    explicit Cjt188Driver(Cjt188MeterSpec spec) : spec_(std::move(spec)) {}

    const std::string& id() const override { return spec_.id; }
    std::string describe() const override { return "cjt188 " + spec_.address.to_string(); }
    std::optional<transport::LineSettings> line() const override { return spec_.line; }
    std::optional<std::chrono::milliseconds> response_timeout() const override {
        return spec_.timeout;
    }
    Expected<ReadOutcome, ReadError> read(BusContext& bus) override;
    Expected<void, ReadError> probe(BusContext& bus) override;
    bool can_switch() const override { return spec_.valve_control; }
    Expected<SupplyState, ReadError> switch_supply(BusContext& bus, bool on) override;
    Expected<SupplyState, ReadError> supply_state(BusContext& bus) override;

  private:
    Expected<cjt188::FlowReading, ReadError> read_data(BusContext& bus);

    Cjt188MeterSpec spec_;
    std::uint8_t ser_ = 0;  // the sequence byte; the meter echoes it
};

// Reads the address of the only meter on a bus (technician's scan).
Expected<cjt188::Address, ReadError> cjt188_read_address(Exchange& exchange);

}  // namespace ecmgw::bus
