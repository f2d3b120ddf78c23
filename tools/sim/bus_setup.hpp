// Which meters the simulator serves: those of one bus of a gateway config file (so the
// demo and the tests have one source of truth), or DL/T 645-2007 meters at the addresses
// given on the command line. Start values are spread so that every meter reads
// differently.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ecmgw/common/expected.hpp"
#include "ecmgw/config/config.hpp"
#include "sim/faults.hpp"
#include "sim/sim_meter.hpp"

namespace ecmgw::sim {

struct Population {
    double load_kw = 1.0;   // the first electricity meter's load; the others +10% steps
    double flow_m3h = 0.5;  // the first water meter's flow; the others +10% steps
    // Meters (id, address, unit or *) that refuse block reads.
    std::vector<std::string> no_blocks;
};

// The meters of bus `bus_name` of `config`, in file order; an empty name takes the
// config's only bus.
Expected<SimBus> bus_from_config(const config::Config& config, std::string_view bus_name,
                                 const Population& population);

// Without a config: meters of one protocol at `addresses` (12 digits for DL/T 645, 14 for
// CJ/T 188, unit ids for Modbus, whose meters all use `profile`).
struct CliMeters {
    config::Protocol protocol = config::Protocol::Dlt645_2007;
    std::vector<std::string> addresses;
    config::MeterType meter_type = config::MeterType::ColdWater;  // CJ/T 188
    std::optional<config::Profile> profile;                       // Modbus
};
Expected<SimBus> bus_from_cli(const CliMeters& meters, const transport::LineSettings& line,
                              const Population& population);
// DL/T 645-2007 meters at `addresses`: bus_from_cli's default protocol.
Expected<SimBus> bus_from_addresses(const std::vector<std::string>& addresses,
                                    const transport::LineSettings& line,
                                    const Population& population);
// `count` consecutive addresses from `first`, each `first.size()` digits wide (12 or 14
// digits, or a unit id).
Expected<std::vector<std::string>> consecutive_addresses(std::string_view first, int count);

// Gives each meter its faults (--fault rules in order; later ones win). A rule naming no
// meter on the bus is an error: a typo must not leave a fault test testing nothing.
Expected<void> apply_faults(SimBus& bus, const std::vector<FaultRule>& rules);

}  // namespace ecmgw::sim
