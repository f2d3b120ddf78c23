#include "sim/simulated_meter.hpp"

#include <string>
#include <vector>

#include "sim/sim_clock.hpp"

namespace ecmgw::sim {

namespace {

constexpr dlt645::DataId kStatusWord3 = 0x04000503;
constexpr std::int64_t kDayMs = 86'400'000;

// Floor division: the meter's clock may be set before 1970 by a broadcast.
std::int64_t next_midnight_after(std::int64_t clock_ms) {
    const std::int64_t day = clock_ms / kDayMs - (clock_ms % kDayMs < 0 ? 1 : 0);
    return (day + 1) * kDayMs;
}

dlt645::Bytes di_bytes(dlt645::DataId di) {
    return {static_cast<std::uint8_t>(di), static_cast<std::uint8_t>(di >> 8),
            static_cast<std::uint8_t>(di >> 16), static_cast<std::uint8_t>(di >> 24)};
}

// "2026-11-25 00:00", as the answer log shows it.
std::string freeze_time_text(const dlt645::DateTime& t) {
    dlt645::Value date;
    date.format = dlt645::ValueFormat::Date;
    date.when = t;
    dlt645::Value time;
    time.format = dlt645::ValueFormat::Time;
    time.when = t;
    return date.to_string() + " " + time.to_string().substr(0, 5);
}

}  // namespace

SimulatedMeter::SimulatedMeter(const MeterSpec& spec)
    : spec_(spec), energy_(spec.initial_energy_centikwh * 10, spec.load_w) {}

void SimulatedMeter::advance_to(std::int64_t now_ms) {
    // The registers are frozen as they stand at the midnight itself, however coarsely the
    // clock is advanced, so a fast clock skipping whole days still freezes each of them.
    while (next_freeze_ms_ && *next_freeze_ms_ - clock_offset_ms_ <= now_ms) {
        energy_.advance_to(*next_freeze_ms_ - clock_offset_ms_, !relay_open_);
        const MeterState s = state();
        dlt645::FrozenEnergy frozen{s.energy_kwh, {}};
        for (const char* tariff : {"import_energy_t1_kwh", "import_energy_t2_kwh",
                                   "import_energy_t3_kwh", "import_energy_t4_kwh"}) {
            frozen.tariffs.push_back(
                with_decimals(quantity_value(tariff, s).value_or(Decimal{}), 2));
        }
        last_freeze_ = Freeze{*next_freeze_ms_, std::move(frozen)};
        *next_freeze_ms_ += kDayMs;
    }
    energy_.advance_to(now_ms, !relay_open_);
    if (!next_freeze_ms_) schedule_freeze();
}

void SimulatedMeter::schedule_freeze() {
    next_freeze_ms_ = next_midnight_after(energy_.now_ms() + clock_offset_ms_);
}

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
    if (dlt645::is_daily_freeze_di(*di)) return answer_freeze(function, *di);

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

// Only the last freeze is kept: older ones (DI0 > 01), other frozen quantities, and any
// freeze before the first midnight get "no requested data", as from a new meter.
Answer SimulatedMeter::answer_freeze(std::uint8_t function, dlt645::DataId di) const {
    const auto time_di = dlt645::daily_freeze_di(dlt645::kDailyFreezeTime, 1);
    const auto energy_di = dlt645::daily_freeze_di(dlt645::kDailyFrozenImportEnergy, 1);
    if (!last_freeze_ || (di != *time_di && di != *energy_di)) {
        return abnormal_answer(spec_.address, function, dlt645::kErrNoData);
    }
    std::vector<AnsweredValue> values;
    Expected<dlt645::Bytes> encoded = dlt645::Bytes{};
    if (di == *time_di) {
        const auto when = to_datetime(last_freeze_->at_ms);
        encoded = dlt645::encode_freeze_time(when);
        values.push_back({"freeze_time", freeze_time_text(when)});
    } else {
        encoded = dlt645::encode_frozen_energy(last_freeze_->energy);
        values.push_back({std::string(dlt645::kFrozenImportQuantities[0]),
                          last_freeze_->energy.total.to_string()});
        for (std::size_t i = 0; i < last_freeze_->energy.tariffs.size(); ++i) {
            values.push_back({std::string(dlt645::kFrozenImportQuantities[i + 1]),
                              last_freeze_->energy.tariffs[i].to_string()});
        }
    }
    if (!encoded) return abnormal_answer(spec_.address, function, dlt645::kErrOther);
    auto data = di_bytes(di);
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
                // A set clock freezes at its own next midnight; a midnight jumped over is
                // not frozen after the fact.
                if (next_freeze_ms_) schedule_freeze();
            }
            return std::nullopt;  // broadcasts are never answered
        default:
            return abnormal_answer(spec_.address, request.function(), dlt645::kErrOther);
    }
}

}  // namespace ecmgw::sim
