#include "sim/quantities.hpp"

#include <initializer_list>

namespace ecmgw::sim {

namespace {

constexpr std::int64_t kPowerFactorMilli = 980;  // a household's inductive load
// sqrt(1/0.98² - 1): reactive per active power at that power factor, × 10^6.
constexpr std::int64_t kReactivePerActiveMicro = 203'069;
// sqrt(3) × 10^6: line-to-line voltage per phase voltage.
constexpr std::int64_t kSqrt3Micro = 1'732'051;

bool one_of(std::string_view q, std::initializer_list<std::string_view> names) {
    for (auto n : names) {
        if (q == n) return true;
    }
    return false;
}

// "current_a_a" and "current_b_a" are both the per-phase current: the prefix names the
// kind, the middle the phase.
bool phase_of(std::string_view q, std::string_view prefix, std::string_view suffix) {
    if (!q.starts_with(prefix) || !q.ends_with(suffix)) return false;
    const auto middle = q.substr(prefix.size(), q.size() - prefix.size() - suffix.size());
    return one_of(middle, {"a", "b", "c"});
}

bool line_of(std::string_view q, std::string_view prefix, std::string_view suffix) {
    if (!q.starts_with(prefix) || !q.ends_with(suffix)) return false;
    const auto middle = q.substr(prefix.size(), q.size() - prefix.size() - suffix.size());
    return one_of(middle, {"ab", "bc", "ca"});
}

Decimal fine(std::int64_t micro) { return Decimal{micro, kFineDecimals}; }

}  // namespace

Decimal with_decimals(const Decimal& value, std::uint8_t decimals) {
    return Decimal{value.rescaled(decimals), decimals};
}

std::optional<Decimal> quantity_value(std::string_view q, const MeterState& s) {
    const std::int64_t total_w = s.supply_on ? s.load_w : 0;
    const std::int64_t phases = s.phases > 0 ? s.phases : 1;
    const std::int64_t flow_lph = s.supply_on ? s.flow_lph : 0;
    const bool loaded = total_w != 0;

    // Cumulative registers: all consumption is in the flat period (tariff 3).
    if (one_of(q, {"energy_kwh", "import_energy_kwh", "energy_t3_kwh", "import_energy_t3_kwh"})) {
        return s.energy_kwh;
    }
    if (q.starts_with("export_") || q.starts_with("energy_t") || q.starts_with("import_energy_t") ||
        q.find("reactive_energy") != std::string_view::npos) {
        return Decimal{0, 2};
    }
    if (q == "volume_m3") return s.volume_m3;
    if (q == "settlement_volume_m3") return s.settlement_m3;
    if (q == "reverse_volume_m3") return Decimal{0, 3};
    if (q == "flow_m3h") return Decimal{flow_lph, 3};

    // Instantaneous values: the voltage is there whatever the relay does.
    if (phase_of(q, "voltage_", "_v")) return Decimal{s.voltage_dv, 1};
    if (line_of(q, "voltage_", "_v")) return fine(s.voltage_dv * kSqrt3Micro / 10);
    if (phase_of(q, "current_", "_a")) {
        // A = W / V, with V in 0.1 V: µA = W × 10 × 10^6 / dV.
        return fine(s.voltage_dv == 0 ? 0 : total_w / phases * 10'000'000 / s.voltage_dv);
    }
    if (q == "active_power_kw") return fine(total_w * 1000);
    if (phase_of(q, "active_power_", "_kw")) return fine(total_w * 1000 / phases);
    if (q == "apparent_power_kva") return fine(total_w * 1'000'000 / kPowerFactorMilli);
    if (phase_of(q, "apparent_power_", "_kva")) {
        return fine(total_w * 1'000'000 / kPowerFactorMilli / phases);
    }
    if (q == "reactive_power_kvar") return fine(total_w * kReactivePerActiveMicro / 1000);
    if (phase_of(q, "reactive_power_", "_kvar")) {
        return fine(total_w * kReactivePerActiveMicro / 1000 / phases);
    }
    if (q == "power_factor" || phase_of(q, "power_factor_", "")) {
        // With no load a meter shows 1.000: nothing lags.
        return Decimal{loaded ? kPowerFactorMilli : 1000, 3};
    }
    if (q == "frequency_hz") return Decimal{5000, 2};

    // Flags and the battery.
    if (one_of(q, {"valve_state", "valve_open", "relay_state", "relay_closed", "supply_on"})) {
        return Decimal{s.supply_on ? 1 : 0, 0};
    }
    if (one_of(q, {"valve_closed", "relay_open"})) return Decimal{s.supply_on ? 0 : 1, 0};
    if (q == "battery_low") return Decimal{0, 0};
    if (q == "battery_voltage_v") return Decimal{360, 2};
    return std::nullopt;
}

}  // namespace ecmgw::sim
