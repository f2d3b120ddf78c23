#include "sim/cjt188_meter.hpp"

#include "ecmgw/protocols/dlt645.hpp"
#include "sim/sim_clock.hpp"

namespace ecmgw::sim {

namespace {

using cjt188::Function;

constexpr std::uint8_t kValveOpen = 0x55;
constexpr std::uint8_t kValveClose = 0x99;
constexpr std::uint16_t kStatusClosed = 0x0001;  // ST0 bits 0-1 = 01
constexpr std::uint16_t kStatusBatteryLow = 0x0004;
constexpr std::size_t kFlowBytes = 4;
constexpr std::uint8_t kFlowDecimals = 2;  // XXXXXX.XX

std::uint16_t di_of(const cjt188::Frame& f) {
    return static_cast<std::uint16_t>(f.data[0] | f.data[1] << 8);
}

void append_word(cjt188::Bytes& out, std::uint16_t word) {
    out.push_back(static_cast<std::uint8_t>(word));
    out.push_back(static_cast<std::uint8_t>(word >> 8));
}

// ss mm hh DD MM YYYY, BCD, the year's low byte first.
void append_time(cjt188::Bytes& out, std::int64_t unix_ms) {
    const auto t = to_datetime(unix_ms);
    for (int field : {t.second, t.minute, t.hour, t.day, t.month, t.year % 100, t.year / 100}) {
        out.push_back(to_bcd(field));
    }
}

}  // namespace

Cjt188Meter::Cjt188Meter(const Cjt188Spec& spec)
    : spec_(spec), volume_(spec.initial_litres, spec.flow_lph) {}

void Cjt188Meter::advance_to(std::int64_t now_ms) { volume_.advance_to(now_ms, valve_open_); }

std::uint16_t Cjt188Meter::status() const {
    std::uint16_t st = valve_open_ ? 0 : kStatusClosed;
    if (spec_.battery_low) st |= kStatusBatteryLow;
    return st;
}

Cjt188Answer Cjt188Meter::reply(std::uint8_t function, cjt188::Bytes data) const {
    return {cjt188::Frame{spec_.type, spec_.address,
                          static_cast<std::uint8_t>(function | cjt188::kDirectionFromMeter),
                          std::move(data)},
            {}};
}

// The standard's abnormal answer: SER ST.
Cjt188Answer Cjt188Meter::abnormal(std::uint8_t function, std::uint8_t ser) const {
    cjt188::Bytes data{ser};
    append_word(data, status());
    auto a = reply(function, std::move(data));
    a.frame.control |= cjt188::kAbnormal;
    return a;
}

Cjt188Answer Cjt188Meter::answer_read(const cjt188::Frame& request) const {
    const std::uint8_t ser = request.data[2];
    if (di_of(request) != cjt188::kDiReadData) return abnormal(request.function(), ser);
    const Decimal current = volume_.reading(kFlowDecimals);
    const Decimal settlement{spec_.settlement_litres.value_or(spec_.initial_litres) / 10,
                             kFlowDecimals};
    cjt188::Bytes data(request.data.begin(), request.data.begin() + 3);  // DI SER
    for (const Decimal& flow : {current, settlement}) {
        auto bcd = dlt645::encode_bcd_decimal(flow, kFlowBytes, kFlowDecimals, false);
        if (!bcd) return abnormal(request.function(), ser);  // over 999999.99 m³
        data.insert(data.end(), bcd->begin(), bcd->end());
        data.push_back(cjt188::kUnitCubicMetre);
    }
    append_time(data, volume_.now_ms());
    append_word(data, status());
    auto a = reply(request.function(), std::move(data));
    a.values = {{"volume_m3", current.to_string()},
                {"settlement_volume_m3", settlement.to_string()},
                {"valve_state", valve_open_ ? "1" : "0"},
                {"battery_low", spec_.battery_low ? "1" : "0"}};
    return a;
}

Cjt188Answer Cjt188Meter::answer_write(const cjt188::Frame& request) {
    const std::uint8_t ser = request.data[2];
    if (di_of(request) != cjt188::kDiValve || request.data.size() < 4) {
        return abnormal(request.function(), ser);
    }
    switch (request.data[3]) {
        case kValveOpen:
            valve_open_ = true;
            break;
        case kValveClose:
            valve_open_ = false;
            break;
        default:
            return abnormal(request.function(), ser);
    }
    cjt188::Bytes data(request.data.begin(), request.data.begin() + 3);
    append_word(data, status());
    return reply(request.function(), std::move(data));
}

std::optional<Cjt188Answer> Cjt188Meter::answer(const cjt188::Frame& request) {
    const auto any = static_cast<std::uint8_t>(cjt188::MeterType::Any);
    if (request.from_meter() || (request.type != spec_.type && request.type != any)) {
        return std::nullopt;
    }
    // Every request starts with DI and SER; without them there is no SER to echo.
    if (request.data.size() < 3) return std::nullopt;
    switch (static_cast<Function>(request.function())) {
        case Function::ReadData:
            return answer_read(request);
        case Function::WriteData:
            return answer_write(request);
        case Function::ReadAddress:
            if (di_of(request) != cjt188::kDiReadAddress) {
                return abnormal(request.function(), request.data[2]);
            }
            // The address travels in the address field; DATA is DI and SER only.
            return reply(request.function(),
                         cjt188::Bytes(request.data.begin(), request.data.begin() + 3));
        default:
            return abnormal(request.function(), request.data[2]);
    }
}

}  // namespace ecmgw::sim
