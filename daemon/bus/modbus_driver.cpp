#include "bus/modbus_driver.hpp"

namespace ecmgw::bus {

namespace {

std::vector<std::uint16_t> widen(const std::vector<std::uint8_t>& bits) {
    return {bits.begin(), bits.end()};
}

}  // namespace

ModbusDriver::ModbusDriver(ModbusMeterSpec spec)
    : spec_(std::move(spec)), plan_(modbus::plan_reads(spec_.points, spec_.limits)) {}

std::string ModbusDriver::describe() const {
    return "modbus unit " + std::to_string(spec_.unit) + " (" + spec_.profile + ")";
}

// Bits come back one per byte; they are widened to words so that every request
// decodes the same way.
Expected<std::vector<std::uint16_t>, ReadError> ModbusDriver::read_request(
    ModbusSession& session, const modbus::ReadRequest& r) {
    switch (r.table) {
        case modbus::Table::HoldingRegister:
            return session.read_holding(spec_.unit, r.address, r.count);
        case modbus::Table::InputRegister:
            return session.read_input(spec_.unit, r.address, r.count);
        case modbus::Table::Coil: {
            auto bits = session.read_coils(spec_.unit, r.address, r.count);
            if (!bits) return unexpected(bits.error());
            return widen(*bits);
        }
        case modbus::Table::DiscreteInput: {
            auto bits = session.read_discrete(spec_.unit, r.address, r.count);
            if (!bits) return unexpected(bits.error());
            return widen(*bits);
        }
    }
    return unexpected(ReadError{ReadFailure::Mismatch, "unknown Modbus table"});
}

void ModbusDriver::decode_request(const modbus::ReadRequest& r,
                                  const std::vector<std::uint16_t>& words, ReadOutcome& out) const {
    for (const auto index : r.points) {
        const auto& point = spec_.points[index];
        const std::size_t offset = point.address - r.address;
        Expected<Decimal> value =
            modbus::is_bit_table(point.table)
                ? modbus::decode_bit(point, static_cast<std::uint8_t>(words.at(offset)))
                : modbus::decode_point(point,
                                       std::span(words).subspan(offset, modbus::width(point)));
        if (value) {
            out.samples.push_back({point.quantity, *value});
        } else {
            out.item_errors.push_back(
                {ReadFailure::Invalid, point.quantity + ": " + value.error().message});
        }
    }
}

Expected<ReadOutcome, ReadError> ModbusDriver::read(BusContext& bus) {
    auto session = bus.modbus(spec_.framing);
    if (!session) return unexpected(ReadError{ReadFailure::LinkError, session.error().message});
    ReadOutcome out;
    bool answered = false;
    bool replan = false;
    for (const auto& request : plan_) {
        auto words = read_request(**session, request);
        if (words) {
            answered = true;
            decode_request(request, *words, out);
            continue;
        }
        if (ends_turn(words.error(), answered)) return unexpected(words.error());
        answered = answered || words.error().kind != ReadFailure::Timeout;
        // A merged request may touch a register the meter does not define: read
        // its points one by one now, and plan without merging from now on.
        if (words.error().kind == ReadFailure::Refused && request.points.size() > 1) {
            replan = true;
            for (const auto index : request.points) {
                const auto& point = spec_.points[index];
                modbus::ReadRequest single{
                    point.table, point.address, modbus::width(point), {index}};
                auto one = read_request(**session, single);
                if (one) {
                    decode_request(single, *one, out);
                } else if (one.error().kind == ReadFailure::LinkError) {
                    return unexpected(one.error());
                } else {
                    out.item_errors.push_back(one.error());
                }
            }
            continue;
        }
        out.item_errors.push_back(words.error());
    }
    if (replan) {
        spec_.limits.max_gap = 0;
        plan_ = modbus::plan_reads(spec_.points, spec_.limits);
    }
    return out;
}

Expected<void, ReadError> ModbusDriver::probe(BusContext& bus) {
    if (plan_.empty()) return {};
    auto session = bus.modbus(spec_.framing);
    if (!session) return unexpected(ReadError{ReadFailure::LinkError, session.error().message});
    const auto& first = plan_.front();
    auto words = read_request(**session, first);
    if (!words && (words.error().kind == ReadFailure::Timeout ||
                   words.error().kind == ReadFailure::LinkError)) {
        return unexpected(words.error());
    }
    return {};
}

Expected<SupplyState, ReadError> ModbusDriver::supply_state(BusContext& bus) {
    if (!spec_.supply_switch || !spec_.supply_switch->state) return MeterDriver::supply_state(bus);
    auto session = bus.modbus(spec_.framing);
    if (!session) return unexpected(ReadError{ReadFailure::LinkError, session.error().message});
    const auto& control = *spec_.supply_switch;
    const auto& point = *control.state;
    modbus::ReadRequest r{point.table, point.address, modbus::width(point), {}};
    auto words = read_request(**session, r);
    if (!words) return unexpected(words.error());
    auto state =
        modbus::is_bit_table(point.table)
            ? modbus::decode_switch_state_bit(control, static_cast<std::uint8_t>(words->at(0)))
            : modbus::decode_switch_state(control, *words);
    if (!state) return unexpected(ReadError{ReadFailure::Invalid, state.error().message});
    switch (*state) {
        case modbus::SwitchState::On:
            return SupplyState::On;
        case modbus::SwitchState::Off:
            return SupplyState::Off;
        default:
            return SupplyState::Unknown;
    }
}

Expected<SupplyState, ReadError> ModbusDriver::switch_supply(BusContext& bus, bool on) {
    if (!spec_.supply_switch) return MeterDriver::switch_supply(bus, on);
    auto session = bus.modbus(spec_.framing);
    if (!session) return unexpected(ReadError{ReadFailure::LinkError, session.error().message});
    for (const auto& w : modbus::plan_switch(*spec_.supply_switch, on)) {
        Expected<void, ReadError> done;
        if (w.table == modbus::Table::Coil && !w.multiple) {
            done = (*session)->write_coil(spec_.unit, w.address, w.values.at(0) != 0);
        } else if (w.table == modbus::Table::Coil) {
            done = (*session)->write_coils(
                spec_.unit, w.address, std::vector<std::uint8_t>(w.values.begin(), w.values.end()));
        } else if (!w.multiple && w.values.size() == 1) {
            done = (*session)->write_register(spec_.unit, w.address, w.values.front());
        } else {
            done = (*session)->write_registers(spec_.unit, w.address, w.values);
        }
        if (!done) return unexpected(done.error());
    }
    // Without a state register the command is all we know: say so, never guess.
    if (!spec_.supply_switch->state) return SupplyState::Unknown;
    return supply_state(bus);
}

}  // namespace ecmgw::bus
