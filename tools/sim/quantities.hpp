// What a simulated meter shows for a quantity, by the name the gateway stores it under
// ("voltage_a_v", "volume_m3", ...). One physics for every protocol, so a DL/T 645 meter
// and a Modbus profile describe the same kind of household the same way.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "ecmgw/common/decimal.hpp"

namespace ecmgw::sim {

struct MeterState {
    Decimal energy_kwh;              // the cumulative register (electricity meters)
    Decimal volume_m3;               // the cumulative register (water meters)
    Decimal settlement_m3;           // the register on the last settlement day (water)
    std::int64_t load_w = 0;         // the load while the supply is on
    std::int64_t flow_lph = 0;       // the flow while the valve is open
    std::int64_t voltage_dv = 2200;  // phase voltage in 0.1 V
    int phases = 1;
    bool supply_on = true;  // relay closed, valve open
};

// Digits kept for values that are not exact (currents, apparent power, ...): more than
// any meter format has, so each protocol cuts them to its own.
inline constexpr std::uint8_t kFineDecimals = 6;

// The value of `quantity`, or nothing for a name this model does not know (the caller
// answers 0 for those: a real meter also has registers nobody uses).
std::optional<Decimal> quantity_value(std::string_view quantity, const MeterState& state);

// `value` cut (towards zero) or extended to `decimals` digits.
Decimal with_decimals(const Decimal& value, std::uint8_t decimals);

}  // namespace ecmgw::sim
