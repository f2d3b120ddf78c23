// Units and the status word: what the numbers in an answer mean.
#include <algorithm>
#include <array>
#include <utility>

#include "ecmgw/protocols/cjt188.hpp"

namespace ecmgw::cjt188 {

namespace {

constexpr std::uint8_t kValveBits = 0x03;
constexpr std::uint8_t kBatteryLow = 0x04;
constexpr std::uint8_t kLitreToCubicMetre = 3;  // decimal places

// The unit codes of CJ/T 188 (heat meters use the energy and power ones).
constexpr std::array<std::pair<std::uint8_t, std::string_view>, 16> kUnits{{
    {0x01, "J"},
    {0x02, "Wh"},
    {0x05, "kWh"},
    {0x08, "MWh"},
    {0x0A, "MWh×100"},
    {0x0B, "kJ"},
    {0x0E, "MJ"},
    {0x11, "GJ"},
    {0x13, "GJ×100"},
    {0x14, "W"},
    {0x17, "kW"},
    {0x1A, "MW"},
    {kUnitLitre, "L"},
    {kUnitCubicMetre, "m³"},
    {0x32, "L/h"},
    {0x35, "m³/h"},
}};

std::string hex2(std::uint8_t value) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    return {kHex[value >> 4], kHex[value & 0x0F]};
}

}  // namespace

MeterStatus decode_status(std::uint16_t raw) {
    MeterStatus status;
    status.raw = raw;
    switch (raw & kValveBits) {
        case 0x00:
            status.valve = MeterStatus::Valve::Open;
            break;
        case 0x01:
            status.valve = MeterStatus::Valve::Closed;
            break;
        case 0x03:
            status.valve = MeterStatus::Valve::Abnormal;
            break;
        default:  // 10 is not defined
            status.valve = MeterStatus::Valve::Unknown;
            break;
    }
    status.battery_low = (raw & kBatteryLow) != 0;
    return status;
}

std::string_view valve_name(MeterStatus::Valve valve) {
    switch (valve) {
        case MeterStatus::Valve::Open:
            return "open";
        case MeterStatus::Valve::Closed:
            return "closed";
        case MeterStatus::Valve::Abnormal:
            return "abnormal";
        case MeterStatus::Valve::Unknown:
            break;
    }
    return "unknown";
}

std::string_view unit_name(std::uint8_t unit) {
    auto it = std::find_if(kUnits.begin(), kUnits.end(),
                           [unit](const auto& entry) { return entry.first == unit; });
    return it == kUnits.end() ? "unknown" : it->second;
}

Expected<Decimal> to_cubic_metres(const Decimal& value, std::uint8_t unit) {
    if (unit == kUnitCubicMetre) return value;
    if (unit == kUnitLitre) {
        // Moving the point keeps every digit the meter sent: no rounding, no overflow.
        if (value.scale > 0xFF - kLitreToCubicMetre) {
            return fail("a volume with " + std::to_string(value.scale) +
                        " decimals has too many to convert from litres");
        }
        return Decimal{value.mantissa, static_cast<std::uint8_t>(value.scale + kLitreToCubicMetre)};
    }
    return fail("unit 0x" + hex2(unit) + " (" + std::string(unit_name(unit)) +
                ") is not a volume: expected 0x2C (m³) or 0x29 (L)");
}

}  // namespace ecmgw::cjt188
