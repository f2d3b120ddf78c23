// Switching a meter's relay or valve, and reading its state back. The poller's
// reconciliation loop writes these and compares the state until they agree.
#include "ecmgw/protocols/modbus_map.hpp"

namespace ecmgw::modbus {

std::vector<WriteRequest> plan_switch(const SwitchControl& control, bool on) {
    std::vector<WriteRequest> writes;
    for (const auto& [address, value] : control.unlock_writes) {
        writes.push_back({Table::HoldingRegister, address, {value}, control.write_multiple});
    }
    const std::uint16_t value = on ? control.on_value : control.off_value;
    if (control.table == Table::Coil) {
        writes.push_back({Table::Coil,
                          control.address,
                          {static_cast<std::uint16_t>(value != 0 ? 1 : 0)},
                          false});
        return writes;
    }
    WriteRequest command{Table::HoldingRegister, control.address, {}, control.write_multiple};
    if (!control.prefix.empty()) {
        // One function-16 write from the first prefix register through the command word.
        command.address = static_cast<std::uint16_t>(control.address - control.prefix.size());
        command.values = control.prefix;
        command.multiple = true;
    }
    command.values.push_back(value);
    writes.push_back(std::move(command));
    return writes;
}

namespace {

SwitchState compare(const SwitchControl& control, std::uint16_t raw) {
    const auto masked = static_cast<std::uint16_t>(raw & control.state_mask);
    if (masked == (control.state_on_value & control.state_mask)) return SwitchState::On;
    if (masked == (control.state_off_value & control.state_mask)) return SwitchState::Off;
    return SwitchState::Unknown;
}

}  // namespace

Expected<SwitchState> decode_switch_state(const SwitchControl& control,
                                          std::span<const std::uint16_t> registers) {
    if (!control.state) return fail("this switch has no state to read back");
    const Point& point = *control.state;
    if (is_bit_table(point.table))
        return fail("the switch state is a bit; use decode_switch_state_bit");
    if (registers.size() != 1) {
        return fail("the switch state is one register, got " + std::to_string(registers.size()));
    }
    std::uint16_t raw = registers[0];
    if (point.order == WordOrder::BADC || point.order == WordOrder::DCBA) {
        raw = static_cast<std::uint16_t>((raw << 8) | (raw >> 8));
    }
    return compare(control, raw);
}

Expected<SwitchState> decode_switch_state_bit(const SwitchControl& control, std::uint8_t bit) {
    if (!control.state) return fail("this switch has no state to read back");
    if (!is_bit_table(control.state->table)) {
        return fail("the switch state is a register; use decode_switch_state");
    }
    if (bit > 1) return fail("a bit must be 0 or 1, got " + std::to_string(bit));
    return compare(control, bit);
}

}  // namespace ecmgw::modbus
