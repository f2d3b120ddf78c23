// Tariffs for prepaid metering: what a unit of consumption costs. Pure data and
// validation, no I/O. Money never passes through binary floating point.
//
// One model covers flat, tiered (阶梯), time-of-use (尖峰平谷) and tiers combined
// with time of use: a tariff version has one or more tiers, each with a price per
// time-of-use period, and day tables saying which period each minute of the local
// day is in. A flat tariff is one tier with one price and no day table (the whole
// day is the flat period).
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
const char* utility_name(Utility u);  // "electricity", "water"

// The four time-of-use periods (尖, 峰, 平, 谷), usable as an index.
enum class Period : std::uint8_t { Sharp = 0, Peak = 1, Flat = 2, Valley = 3 };
inline constexpr std::size_t kPeriodCount = 4;
const char* period_name(Period p);  // "sharp", "peak", "flat", "valley"

// Which day table applies to a local date (see Calendar).
enum class DayKind : std::uint8_t { Weekday = 0, Weekend = 1, Holiday = 2 };
inline constexpr std::size_t kDayKindCount = 3;
const char* day_kind_name(DayKind k);  // "weekday", "weekend", "holiday"

// One [start_minute, end_minute) range of the local day, 0 <= start < end <= 1440.
struct TouRange {
    std::int64_t start_minute = 0;
    std::int64_t end_minute = 0;
    Period period = Period::Flat;
    friend bool operator==(const TouRange&, const TouRange&) = default;
};

// Tier i applies to cumulative consumption in the billing cycle below
// `upper_micro` (micro-units); the last tier has no bound. `prices[p]` is the
// price of period p in this tier; a tier used without time of use has only
// prices[Flat].
struct Tier {
    std::optional<std::int64_t> upper_micro;
    std::array<std::optional<Price>, kPeriodCount> prices;
    friend bool operator==(const Tier&, const Tier&) = default;
};

// The billing cycle tiers accumulate over: monthly from `start_day` (1..28), or
// yearly from `start_month`/`start_day`, both at local midnight.
struct BillingCycle {
    enum class Length { Monthly, Yearly } length = Length::Monthly;
    int start_month = 1;  // yearly only, 1..12
    int start_day = 1;    // 1..28
    friend bool operator==(const BillingCycle&, const BillingCycle&) = default;
};

// What a tariff costs from `effective_from_ms` on (until the next version's).
struct TariffVersion {
    std::int64_t effective_from_ms = 0;  // UTC milliseconds; 0 = since always
    std::vector<Tier> tiers;             // at least one; the last unbounded
    // Day tables by DayKind. An empty weekday table means the whole day is the
    // flat period; an empty weekend or holiday table means the weekday table.
    std::array<std::vector<TouRange>, kDayKindCount> day_tables;
    BillingCycle cycle;
    // Standing charges (fen), debited per account at local midnight (daily) and on
    // the cycle's start day (monthly), whatever was consumed.
    std::int64_t fixed_daily_fen = 0;
    std::int64_t fixed_monthly_fen = 0;
    friend bool operator==(const TariffVersion&, const TariffVersion&) = default;
};

struct Tariff {
    std::string id;
    Utility utility = Utility::Electricity;
    std::vector<TariffVersion> versions;  // at least one, effective_from strictly increasing
    friend bool operator==(const Tariff&, const Tariff&) = default;

    // The version in force at `utc_ms` (the first one for times before it).
    const TariffVersion& version_at(std::int64_t utc_ms) const;
};

// Ok, or what is wrong, phrased for a config error message:
// "day table 'weekday' has a gap at 07:00-08:00", "overlapping periods at 07:00-08:00
// (peak and flat)", "tiers out of order: tier 2 up_to 100 is not above tier 1 up_to 200",
// "negative price", "period peak is used by the day table but tier 1 has no price for it",
// "versions out of order".
Result validate(const Tariff& tariff);
Result validate(const TariffVersion& version);

// A consumption quantity (kWh, m³) as micro-units; fails beyond 6 decimals or on overflow.
Expected<std::int64_t> to_micro_units(const Decimal& quantity);

}  // namespace ecmgw::prepaid
