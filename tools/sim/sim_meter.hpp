// One simulated meter on the bus, whatever its protocol: the pure model, the name the
// operator knows it by, its faults and its own serial settings. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ecmgw/protocols/transport.hpp"
#include "sim/cjt188_meter.hpp"
#include "sim/dlt645_1997_meter.hpp"
#include "sim/faults.hpp"
#include "sim/modbus_meter.hpp"
#include "sim/simulated_meter.hpp"

namespace ecmgw::sim {

using MeterModel = std::variant<SimulatedMeter, Dlt645_1997Meter, Cjt188Meter, ModbusMeter>;

struct SimMeter {
    std::string id;  // the config's meter id; the address when started without a config
    MeterModel model;
    FaultSpec faults;
    // The meter's serial settings where they differ from the bus's (for wire time).
    std::optional<transport::LineSettings> line;
};

std::string_view protocol_name(const MeterModel& model);  // "dlt645-2007", "modbus", ...
// The address as text (12 or 14 digits), or the Modbus unit id.
std::string address_text(const MeterModel& model);
bool is_modbus(const MeterModel& model);
// Closes (on) or opens the meter's relay or valve as a hand at the meter would, with
// no command on the bus; false when the meter has none (DL/T 645-1997, a Modbus
// profile without a switch). Advance the model to the moment first.
bool switch_by_hand(MeterModel& model, bool on);

// Whether `name` (from --fault or --no-blocks) means this meter: its id, its address, its
// Modbus unit id, or "*".
bool matches(const SimMeter& meter, std::string_view name);

struct SimBus {
    std::string name;
    transport::LineSettings line;
    std::vector<SimMeter> meters;
    std::vector<std::string> warnings;  // meters simulated only in part, and why
};

}  // namespace ecmgw::sim
