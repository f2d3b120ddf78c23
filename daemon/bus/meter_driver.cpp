#include "bus/meter_driver.hpp"

namespace ecmgw::bus {

std::string_view to_string(SupplyState s) {
    switch (s) {
        case SupplyState::On:
            return "on";
        case SupplyState::Off:
            return "off";
        default:
            return "unknown";
    }
}

Expected<ModbusSession*> BusContext::modbus(ModbusFraming framing) {
    if (!modbus_ || framing_ != framing) {
        modbus_.reset();
        auto session = ModbusSession::attach(exchange_, framing);
        if (!session) return unexpected(session.error());
        modbus_ = std::move(*session);
        framing_ = framing;
    }
    return modbus_.get();
}

Expected<SupplyState, ReadError> MeterDriver::switch_supply(BusContext&, bool) {
    return unexpected(
        ReadError{ReadFailure::Refused, describe() + " has no relay or valve to switch"});
}

Expected<SupplyState, ReadError> MeterDriver::supply_state(BusContext&) {
    return unexpected(ReadError{ReadFailure::Refused, describe() + " has no relay or valve state"});
}

}  // namespace ecmgw::bus
