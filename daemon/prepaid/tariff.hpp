// Tariffs for prepaid metering: what a unit of consumption costs. Pure data and
// validation, no I/O. Money never passes through binary floating point.
//
// Units used throughout prepaid/:
//   - price: micro-yuan (1e-6 yuan) per unit (kWh or m³), exact from the text;
//   - consumption: micro-units (1e-6 kWh or m³), exact for registers of up to
//     6 decimals (meters send 2-4);
//   - exact amounts: pico-yuan (1e-12 yuan) = micro-units × micro-yuan/unit;
//   - what is charged: fen (1e-2 yuan).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ecmgw/common/decimal.hpp"
#include "ecmgw/common/expected.hpp"

namespace ecmgw::prepaid {

inline constexpr std::int64_t kMinutesPerDay = 1440;

// An exact price per unit, as an integer count of micro-yuan.
struct Price {
    std::int64_t micro_yuan = 0;

    // "0.5283" (yuan per kWh or per m³): digits with at most one '.', at most
    // 6 decimals, no sign. Errors say what is wrong with the text.
    static Expected<Price> parse(std::string_view yuan_per_unit);
    static constexpr Price from_micro_yuan(std::int64_t v) { return Price{v}; }
    std::string to_string() const;  // "0.528300"
    friend bool operator==(const Price&, const Price&) = default;
};

enum class Utility { Electricity, Water };
enum class TariffKind { Flat, Tiered, TimeOfUse };
// The four time-of-use periods (尖, 峰, 平, 谷), usable as an index.
enum class Period : std::uint8_t { Sharp = 0, Peak = 1, Flat = 2, Valley = 3 };
inline constexpr std::size_t kPeriodCount = 4;
const char* period_name(Period p);

// Tier i applies to cumulative consumption in the billing period up to
// `upper_bound` (in consumption units, e.g. kWh); the last tier has no bound.
struct Tier {
    std::optional<Decimal> upper_bound;
    Price price;
};

// One [start_minute, end_minute) range of the local day, 0 <= start < end <= 1440.
struct TouRange {
    std::int64_t start_minute = 0;
    std::int64_t end_minute = 0;
    Period period = Period::Flat;
};

struct Tariff {
    std::string id;
    Utility utility = Utility::Electricity;
    TariffKind kind = TariffKind::Flat;
    Price flat_price;                                              // kind == Flat
    std::vector<Tier> tiers;                                       // kind == Tiered
    std::array<std::optional<Price>, kPeriodCount> period_prices;  // kind == TimeOfUse
    std::vector<TouRange> day_table;  // kind == TimeOfUse: covers the day exactly once
};

// Ok, or what is wrong: "gap at 07:00-08:00", "overlap at 07:00-08:00 (peak and flat)",
// "tiers out of order: ...", "negative price ...".
Result validate(const Tariff& tariff);

// A consumption quantity (kWh, m³) as micro-units; fails beyond 6 decimals or on overflow.
Expected<std::int64_t> to_micro_units(const Decimal& quantity);

}  // namespace ecmgw::prepaid
