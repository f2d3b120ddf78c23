// Drivers from configuration: one per [[meter]], with the bus's and the meter's
// serial settings, protocol defaults, control credentials and profiles applied.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bus/meter_driver.hpp"
#include "ecmgw/config/config.hpp"

namespace ecmgw::bus {

// The quantities a meter reads when its config names none.
std::vector<std::string> default_quantities(config::Protocol protocol, config::MeterKind kind);

// The bus's own line settings.
transport::LineSettings bus_line(const config::BusConfig& bus);

Expected<std::unique_ptr<MeterDriver>> make_driver(const config::Config& cfg,
                                                   const config::BusConfig& bus,
                                                   const config::MeterConfig& meter);
// The drivers of every meter on `bus`, in config order.
Expected<std::vector<std::unique_ptr<MeterDriver>>> make_bus_drivers(const config::Config& cfg,
                                                                     const config::BusConfig& bus);

}  // namespace ecmgw::bus
