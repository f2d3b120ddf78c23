#include "sim/simulated_meter.hpp"

#include <vector>

#include "sim/sim_clock.hpp"

namespace ecmgw::sim {

namespace {

constexpr dlt645::DataId kStatusWord3 = 0x04000503;

dlt645::Bytes di_bytes(dlt645::DataId di) {
    return {static_cast<std::uint8_t>(di), static_cast<std::uint8_t>(di >> 8),
            static_cast<std::uint8_t>(di >> 16), static_cast<std::uint8_t>(di >> 24)};
}

}  // namespace

SimulatedMeter::SimulatedMeter(const MeterSpec& spec)
    : spec_(spec), energy_(spec.initial_energy_centikwh * 10, spec.load_w) {}

void SimulatedMeter::advance_to(std::int64_t now_ms) { energy_.advance_to(now_ms, !relay_open_); }

MeterState SimulatedMeter::state() const {
    MeterState s;
    s.energy_kwh = Decimal{energy_centikwh(), 2};
    s.load_w = spec_.load_w;
    s.voltage_dv = spec_.voltage_dv;
    s.supply_on = !relay_open_;
    return s;
}

std::uint16_t SimulatedMeter::status_word(dlt645::DataId di) const {
    if (di != kStatusWord3) return 0;
    std::uint16_t word = 0x0100;      // bits 8-9 = 01: energy prepaid meter
    if (relay_open_) word |= 0x0050;  // bit 4 relay open, bit 6 open commanded
    if (alarm_) word |= 0x0080;
    return word;
}

Answer SimulatedMeter::answer_read(const dlt645::Frame& request) const {
    const auto function = request.function();
    const auto di = request_di(request, 4);
    if (!di) return abnormal_answer(spec_.address, function, dlt645::kErrOther);

    std::vector<const dlt645::DataItem*> items;
    if (const auto* block = dlt645::find_block(*di)) {
        if (!spec_.blocks) return abnormal_answer(spec_.address, function, dlt645::kErrNoData);
        for (const auto member : block->members) items.push_back(dlt645::find_data_item(member));
    } else if (const auto* item = dlt645::find_data_item(*di)) {
        items.push_back(item);
    } else {
        return abnormal_answer(spec_.address, function, dlt645::kErrNoData);
    }
    for (const auto* item : items) {
        if (item == nullptr) return abnormal_answer(spec_.address, function, dlt645::kErrNoData);
    }

    const MeterState s = state();
    const Dlt645Face face{s, energy_.now_ms() + clock_offset_ms_, spec_.address, status_word(*di)};
    std::vector<AnsweredValue> values;
    const auto encoded = encode_items(items, face, values);
    if (!encoded) return abnormal_answer(spec_.address, function, dlt645::kErrOther);
    auto data = di_bytes(*di);
    data.insert(data.end(), encoded->begin(), encoded->end());
    Answer a = normal_answer(spec_.address, function, std::move(data));
    a.values = std::move(values);
    return a;
}

Answer SimulatedMeter::answer_control(const dlt645::Frame& request) {
    constexpr auto function = static_cast<std::uint8_t>(dlt645::Function::Control);
    if (request.data.size() < 16)
        return abnormal_answer(spec_.address, function, dlt645::kErrOther);
    switch (static_cast<dlt645::ControlCommand>(request.data[8])) {  // N1
        case dlt645::ControlCommand::Trip:
            relay_open_ = true;
            break;
        case dlt645::ControlCommand::CloseAllowed:
        case dlt645::ControlCommand::DirectClose:
            relay_open_ = false;
            break;
        case dlt645::ControlCommand::Alarm:
            alarm_ = true;
            break;
        case dlt645::ControlCommand::AlarmRelease:
            alarm_ = false;
            break;
        case dlt645::ControlCommand::KeepPower:
        case dlt645::ControlCommand::KeepPowerRelease:
            break;
        default:
            return abnormal_answer(spec_.address, function, dlt645::kErrOther);
    }
    return normal_answer(spec_.address, function, {});
}

std::optional<Answer> SimulatedMeter::answer(const dlt645::Frame& request) {
    if (request.from_meter()) return std::nullopt;
    switch (static_cast<dlt645::Function>(request.function())) {
        case dlt645::Function::Read:
            return answer_read(request);
        case dlt645::Function::ReadAddress:
            return normal_answer(
                spec_.address, request.function(),
                dlt645::Bytes(spec_.address.wire.begin(), spec_.address.wire.end()));
        case dlt645::Function::Control:
            return answer_control(request);
        case dlt645::Function::BroadcastTime:
            if (const auto t = broadcast_time(request)) {
                clock_offset_ms_ = from_datetime(*t) - energy_.now_ms();
            }
            return std::nullopt;  // broadcasts are never answered
        default:
            return abnormal_answer(spec_.address, request.function(), dlt645::kErrOther);
    }
}

}  // namespace ecmgw::sim
