#include "sim/simulated_meter.hpp"

#include <ctime>

namespace ecmgw::sim {

namespace {

constexpr std::int64_t kNominalVoltageDeciV = 2200;  // 220.0 V

dlt645::DateTime to_datetime(std::int64_t unix_ms) {
    const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    return dlt645::DateTime{tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                            tm.tm_min,         tm.tm_sec,     tm.tm_wday};
}

std::int64_t from_datetime(const dlt645::DateTime& t) {
    std::tm tm{};
    tm.tm_year = t.year - 1900;
    tm.tm_mon = t.month - 1;
    tm.tm_mday = t.day;
    tm.tm_hour = t.hour;
    tm.tm_min = t.minute;
    tm.tm_sec = t.second;
    return static_cast<std::int64_t>(timegm(&tm)) * 1000;
}

dlt645::Bytes di_bytes(dlt645::DataId di) {
    return {static_cast<std::uint8_t>(di), static_cast<std::uint8_t>(di >> 8),
            static_cast<std::uint8_t>(di >> 16), static_cast<std::uint8_t>(di >> 24)};
}

}  // namespace

SimulatedMeter::SimulatedMeter(const MeterSpec& spec)
    : spec_(spec), millijoules_(spec.initial_energy_centikwh * kMillijoulesPerCentiKwh) {}

void SimulatedMeter::advance_to(std::int64_t now_ms) {
    if (now_ms_ != 0 && now_ms > now_ms_ && !relay_open_) {
        millijoules_ += spec_.load_w * (now_ms - now_ms_);
    }
    now_ms_ = now_ms;
}

dlt645::Value SimulatedMeter::value_of(const dlt645::DataItem& item) const {
    dlt645::Value v;
    v.format = item.format;
    const std::int64_t load_w = relay_open_ ? 0 : spec_.load_w;
    const std::string_view q = item.quantity;
    switch (item.format) {
        case dlt645::ValueFormat::Decimal:
            if (q == "energy_kwh" || q == "import_energy_kwh") {
                v.number = {energy_centikwh(), 2};
            } else if (q == "import_energy_t3_kwh") {
                v.number = {energy_centikwh(), 2};  // all consumption in the flat period
            } else if (q.starts_with("voltage_")) {
                v.number = {kNominalVoltageDeciV, 1};
            } else if (q.starts_with("current_")) {
                // mA = W / V; three decimals of amperes.
                v.number = {load_w * 1000 * 10 / kNominalVoltageDeciV, 3};
            } else if (q == "active_power_kw") {
                v.number = {load_w * 10, 4};  // W → 0.0001 kW units
            } else if (q == "power_factor") {
                v.number = {load_w == 0 ? 1000 : 980, 3};
            } else if (q == "frequency_hz") {
                v.number = {5000, 2};
            } else {
                v.number = {0, item.decimals};  // export, other tariff periods
            }
            break;
        case dlt645::ValueFormat::Date:
        case dlt645::ValueFormat::Time:
            v.when = to_datetime(now_ms_ + clock_offset_ms_);
            break;
        case dlt645::ValueFormat::StatusWord: {
            std::uint16_t word = 0;
            if (q == "status_word_3") {
                if (relay_open_) word |= 0x0050;  // bit 4 relay open, bit 6 open commanded
                if (alarm_) word |= 0x0080;
                word |= 0x0100;  // bits 8-9 = 01: energy prepaid meter
            }
            v.status = word;
            v.number = {word, 0};
            break;
        }
        case dlt645::ValueFormat::AddressValue:
            v.address = spec_.address;
            break;
    }
    return v;
}

Answer SimulatedMeter::normal(std::uint8_t function, dlt645::Bytes data) const {
    return Answer{dlt645::Frame{spec_.address,
                                static_cast<std::uint8_t>(function | dlt645::kDirectionFromMeter),
                                std::move(data)},
                  nullptr,
                  {}};
}

Answer SimulatedMeter::abnormal(std::uint8_t function, std::uint8_t error_word) const {
    return Answer{dlt645::Frame{spec_.address,
                                static_cast<std::uint8_t>(function | dlt645::kDirectionFromMeter |
                                                          dlt645::kAbnormal),
                                {error_word}},
                  nullptr,
                  {}};
}

Answer SimulatedMeter::answer_read(const dlt645::Frame& request) const {
    const auto function = request.function();
    if (request.data.size() < 4) return abnormal(function, dlt645::kErrOther);
    const dlt645::DataId di = static_cast<dlt645::DataId>(request.data[0]) |
                              static_cast<dlt645::DataId>(request.data[1]) << 8 |
                              static_cast<dlt645::DataId>(request.data[2]) << 16 |
                              static_cast<dlt645::DataId>(request.data[3]) << 24;
    const dlt645::DataItem* item = dlt645::find_data_item(di);
    if (item == nullptr) return abnormal(function, dlt645::kErrNoData);
    const auto value = value_of(*item);
    auto encoded = dlt645::encode_value(*item, value);
    if (!encoded) return abnormal(function, dlt645::kErrOther);
    auto data = di_bytes(di);
    data.insert(data.end(), encoded->begin(), encoded->end());
    Answer a = normal(function, std::move(data));
    a.item = item;
    a.value = value;
    return a;
}

Answer SimulatedMeter::answer_control(const dlt645::Frame& request) {
    constexpr std::uint8_t function = static_cast<std::uint8_t>(dlt645::Function::Control);
    if (request.data.size() < 16) return abnormal(function, dlt645::kErrOther);
    switch (request.data[8]) {  // N1, after the password and the operator code
        case 0x1A:
            relay_open_ = true;
            break;
        case 0x1B:
        case 0x1C:
            relay_open_ = false;
            break;
        case 0x2A:
            alarm_ = true;
            break;
        case 0x2B:
            alarm_ = false;
            break;
        case 0x3A:
        case 0x3B:
            break;
        default:
            return abnormal(function, dlt645::kErrOther);
    }
    return normal(function, {});
}

std::optional<Answer> SimulatedMeter::answer(const dlt645::Frame& request) {
    if (request.from_meter()) return std::nullopt;
    switch (static_cast<dlt645::Function>(request.function())) {
        case dlt645::Function::Read:
            return answer_read(request);
        case dlt645::Function::ReadAddress: {
            dlt645::Bytes data(spec_.address.wire.begin(), spec_.address.wire.end());
            return normal(request.function(), std::move(data));
        }
        case dlt645::Function::Control:
            return answer_control(request);
        case dlt645::Function::BroadcastTime:
            if (request.data.size() == 6) {
                dlt645::DateTime t{2000 + (request.data[5] >> 4) * 10 + (request.data[5] & 0x0F),
                                   (request.data[4] >> 4) * 10 + (request.data[4] & 0x0F),
                                   (request.data[3] >> 4) * 10 + (request.data[3] & 0x0F),
                                   (request.data[2] >> 4) * 10 + (request.data[2] & 0x0F),
                                   (request.data[1] >> 4) * 10 + (request.data[1] & 0x0F),
                                   (request.data[0] >> 4) * 10 + (request.data[0] & 0x0F),
                                   0};
                clock_offset_ms_ = from_datetime(t) - now_ms_;
            }
            return std::nullopt;  // broadcasts are never answered
        default:
            return abnormal(request.function(), dlt645::kErrOther);
    }
}

}  // namespace ecmgw::sim
