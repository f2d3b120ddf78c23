#include "bus/cjt188_driver.hpp"

#include <algorithm>

namespace ecmgw::bus {

namespace {

ReadError from_answer_error(const cjt188::AnswerError& e) {
    const auto kind = e.kind == cjt188::AnswerErrorKind::Abnormal    ? ReadFailure::Refused
                      : e.kind == cjt188::AnswerErrorKind::Malformed ? ReadFailure::Invalid
                                                                     : ReadFailure::Mismatch;
    return ReadError{kind, e.message};
}

Expected<cjt188::Frame, ReadError> exchange(
    Exchange& ex, const cjt188::Bytes& request,
    const std::function<bool(const cjt188::Frame&)>& is_answer) {
    return exchange_frame<cjt188::Frame>(
        ex, request, [](cjt188::ByteView b) { return cjt188::scan(b); }, is_answer);
}

SupplyState supply_of(const cjt188::MeterStatus& status) {
    switch (status.valve) {
        case cjt188::MeterStatus::Valve::Open:
            return SupplyState::On;
        case cjt188::MeterStatus::Valve::Closed:
            return SupplyState::Off;
        default:
            return SupplyState::Unknown;
    }
}

}  // namespace

Expected<cjt188::FlowReading, ReadError> Cjt188Driver::read_data(BusContext& bus) {
    const std::uint8_t ser = ++ser_;
    auto frame = exchange(bus.exchange(), cjt188::encode_read_data(spec_.type, spec_.address, ser),
                          [&](const cjt188::Frame& f) { return f.address == spec_.address; });
    if (!frame) return unexpected(frame.error());
    auto reading = cjt188::decode_read_data_answer(*frame, spec_.address, ser);
    if (!reading) return unexpected(from_answer_error(reading.error()));
    return *reading;
}

Expected<ReadOutcome, ReadError> Cjt188Driver::read(BusContext& bus) {
    auto reading = read_data(bus);
    if (!reading) return unexpected(reading.error());
    ReadOutcome out;
    auto volume = cjt188::to_cubic_metres(reading->current, reading->current_unit);
    auto settlement = cjt188::to_cubic_metres(reading->settlement, reading->settlement_unit);
    if (volume) {
        out.samples.push_back({"volume_m3", *volume});
    } else {
        out.item_errors.push_back({ReadFailure::Invalid, volume.error().message});
    }
    if (settlement) {
        out.samples.push_back({"settlement_volume_m3", *settlement});
    } else {
        out.item_errors.push_back({ReadFailure::Invalid, settlement.error().message});
    }
    const auto supply = supply_of(reading->status);
    out.supply = supply;
    if (supply != SupplyState::Unknown) {
        out.samples.push_back({"valve_state", Decimal{supply == SupplyState::On ? 1 : 0, 0}});
    }
    out.samples.push_back({"battery_low", Decimal{reading->status.battery_low ? 1 : 0, 0}});
    if (!spec_.quantities.empty()) {
        std::erase_if(out.samples, [&](const Sample& s) {
            return std::find(spec_.quantities.begin(), spec_.quantities.end(), s.quantity) ==
                   spec_.quantities.end();
        });
    }
    return out;
}

Expected<void, ReadError> Cjt188Driver::probe(BusContext& bus) {
    auto reading = read_data(bus);
    if (!reading && (reading.error().kind == ReadFailure::Timeout ||
                     reading.error().kind == ReadFailure::LinkError)) {
        return unexpected(reading.error());
    }
    return {};
}

Expected<SupplyState, ReadError> Cjt188Driver::supply_state(BusContext& bus) {
    auto reading = read_data(bus);
    if (!reading) return unexpected(reading.error());
    return supply_of(reading->status);
}

Expected<SupplyState, ReadError> Cjt188Driver::switch_supply(BusContext& bus, bool on) {
    if (!spec_.valve_control) return MeterDriver::switch_supply(bus, on);
    const std::uint8_t ser = ++ser_;
    auto frame = exchange(bus.exchange(), cjt188::encode_valve(spec_.type, spec_.address, ser, on),
                          [&](const cjt188::Frame& f) { return f.address == spec_.address; });
    if (!frame) return unexpected(frame.error());
    auto status = cjt188::decode_valve_answer(*frame, spec_.address, ser);
    if (!status) return unexpected(from_answer_error(status.error()));
    // A motorised valve takes seconds: its answer may still say "moving"; the
    // reconciliation loop reads it again on the next turn.
    return supply_of(*status);
}

Expected<cjt188::Address, ReadError> cjt188_read_address(Exchange& ex) {
    auto frame = exchange(ex, cjt188::encode_read_address(0), [](const cjt188::Frame& f) {
        return f.function() == static_cast<std::uint8_t>(cjt188::Function::ReadAddress);
    });
    if (!frame) return unexpected(frame.error());
    auto address = cjt188::decode_read_address_answer(*frame);
    if (!address) return unexpected(from_answer_error(address.error()));
    return *address;
}

}  // namespace ecmgw::bus
