#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "ecmgw/prepaid/calendar.hpp"
#include "ecmgw/prepaid/rating.hpp"
#include "ecmgw/prepaid/tariff.hpp"

using ecmgw::Decimal;
using namespace ecmgw::prepaid;

namespace {

__extension__ typedef __int128 Wide;

constexpr std::int64_t kMinute = 60'000;
constexpr std::int64_t kHour = 60 * kMinute;
constexpr std::int64_t kDay = 24 * kHour;

std::size_t idx(Period p) { return static_cast<std::size_t>(p); }

// UTC ms of a wall-clock time in Shanghai (+08:00).
std::int64_t at(int y, int mo, int d, int h = 0, int mi = 0) {
    return days_from_civil(y, mo, d) * kDay + h * kHour + mi * kMinute - 8 * kHour;
}

const Calendar& shanghai() {
    static const Calendar cal = Calendar::fixed_offset(8 * 3600);
    return cal;
}

Price price(const char* text) {
    auto p = Price::parse(text);
    REQUIRE(p.has_value());
    return *p;
}

Tier flat_tier(std::optional<std::int64_t> upper_micro, const char* p) {
    Tier t;
    t.upper_micro = upper_micro;
    t.prices[idx(Period::Flat)] = price(p);
    return t;
}

Tier tou_tier(std::optional<std::int64_t> upper_micro, const char* sharp, const char* peak,
              const char* flat_price, const char* valley) {
    Tier t;
    t.upper_micro = upper_micro;
    t.prices[idx(Period::Sharp)] = price(sharp);
    t.prices[idx(Period::Peak)] = price(peak);
    t.prices[idx(Period::Flat)] = price(flat_price);
    t.prices[idx(Period::Valley)] = price(valley);
    return t;
}

Tariff with_version(TariffVersion v, const char* id = "t") {
    Tariff t;
    t.id = id;
    t.versions.push_back(std::move(v));
    return t;
}

Tariff flat(const char* p) {
    TariffVersion v;
    v.tiers = {flat_tier(std::nullopt, p)};
    return with_version(v, "flat");
}

// 0-200 kWh 0.5283, 200-400 kWh 0.5783, above 0.8283, monthly from the 1st.
TariffVersion tiered_version() {
    TariffVersion v;
    v.tiers = {flat_tier(200'000'000, "0.5283"), flat_tier(400'000'000, "0.5783"),
               flat_tier(std::nullopt, "0.8283")};
    return v;
}

Tariff tiered() { return with_version(tiered_version(), "tiers"); }

// valley 00-08, flat 08-10, peak 10-18, sharp 18-19, flat 19-23, valley 23-24
std::vector<TouRange> weekday_table() {
    return {{0, 480, Period::Valley},    {480, 600, Period::Flat},   {600, 1080, Period::Peak},
            {1080, 1140, Period::Sharp}, {1140, 1380, Period::Flat}, {1380, 1440, Period::Valley}};
}

TariffVersion tou_version() {
    TariffVersion v;
    v.tiers = {tou_tier(std::nullopt, "1.2", "0.9", "0.6", "0.3")};
    v.day_tables[static_cast<std::size_t>(DayKind::Weekday)] = weekday_table();
    return v;
}

Tariff tou() { return with_version(tou_version(), "tou"); }

Interval reading(std::int64_t from, std::int64_t to, std::uint8_t scale, std::int64_t start_ms,
                 std::int64_t end_ms) {
    Interval iv;
    iv.start_register = Decimal{from, scale};
    iv.end_register = Decimal{to, scale};
    iv.start_ms = start_ms;
    iv.end_ms = end_ms;
    return iv;
}

// A state already in the billing cycle of `date_key` (monthly from the 1st).
RatingState in_cycle(int date_key, std::int64_t consumed_micro = 0, std::int64_t remainder = 0) {
    RatingState s;
    s.remainder_pico_yuan = remainder;
    s.cycle_key = date_key / 100 * 100 + 1;
    s.cycle_consumed_micro = consumed_micro;
    return s;
}

Charge rate_ok(const Tariff& t, const Interval& iv, RatingState& state,
               const Calendar& cal = shanghai()) {
    auto c = rate(t, cal, iv, state);
    if (!c) FAIL("rate failed: " << c.error().message);
    return *c;
}

std::string rate_error(const Tariff& t, const Interval& iv, RatingState& state) {
    auto c = rate(t, shanghai(), iv, state);
    REQUIRE_FALSE(c.has_value());
    return c.error().message;
}

std::string error_of(const Tariff& t) {
    auto r = validate(t);
    REQUIRE_FALSE(r.has_value());
    return r.error().message;
}

std::string parse_error(const char* text) {
    auto p = Price::parse(text);
    REQUIRE_FALSE(p.has_value());
    return p.error().message;
}

std::int64_t consumption_in(const Charge& c, Period p) {
    std::int64_t sum = 0;
    for (const ChargeLine& l : c.lines) {
        if (l.period == p) sum += l.consumption_micro;
    }
    return sum;
}

std::int64_t consumption_in_tier(const Charge& c, std::size_t tier) {
    std::int64_t sum = 0;
    for (const ChargeLine& l : c.lines) {
        if (l.tier == tier) sum += l.consumption_micro;
    }
    return sum;
}

ChargeLine line(int date_key, std::size_t version, std::size_t tier, Period period,
                std::int64_t consumption_micro, const char* p) {
    const Price pr = price(p);
    return {
        date_key, version, tier, period, consumption_micro, pr, consumption_micro * pr.micro_yuan};
}

}  // namespace

namespace doctest {
template <>
struct StringMaker<ChargeLine> {
    static String convert(const ChargeLine& l) {
        return String("{") + std::to_string(l.date_key).c_str() + " v" +
               std::to_string(l.version).c_str() + " t" + std::to_string(l.tier).c_str() + " " +
               period_name(l.period) + " " + std::to_string(l.consumption_micro).c_str() + " @" +
               l.price.to_string().c_str() + " = " + std::to_string(l.amount_pico_yuan).c_str() +
               "}";
    }
};
template <>
struct StringMaker<std::vector<ChargeLine>> {
    static String convert(const std::vector<ChargeLine>& v) {
        String out = "[";
        for (std::size_t i = 0; i < v.size(); ++i) {
            if (i != 0) out += ", ";
            out += StringMaker<ChargeLine>::convert(v[i]);
        }
        return out + "]";
    }
};
}  // namespace doctest

// --- tariff basics -------------------------------------------------------------

TEST_CASE("Price parse keeps the exact micro-yuan") {
    CHECK(price("0.5283").micro_yuan == 528'300);
    CHECK(price("12").micro_yuan == 12'000'000);
    CHECK(price("0.000001").micro_yuan == 1);
    CHECK(price("0").micro_yuan == 0);
    CHECK(price("3.14").to_string() == "3.140000");
    CHECK(Price::from_micro_yuan(-1).to_string() == "-0.000001");
}

TEST_CASE("Price parse rejects malformed text with clear errors") {
    CHECK(parse_error("") == "price is empty");
    CHECK(parse_error("-0.5").find("negative") != std::string::npos);
    CHECK(parse_error("1.2.3").find("more than one '.'") != std::string::npos);
    CHECK(parse_error("0,5").find("','") != std::string::npos);
    CHECK(parse_error("1e3").find("'e'") != std::string::npos);
    CHECK(parse_error(" 1").find("' '") != std::string::npos);
    CHECK(parse_error("0.1234567").find("more than 6 decimals") != std::string::npos);
    CHECK(parse_error(".5").find("digit before") != std::string::npos);
    CHECK(parse_error("1.").find("digit after") != std::string::npos);
    CHECK(parse_error("99999999999999999999").find("too large") != std::string::npos);
}

TEST_CASE("utility, period and day kind names") {
    CHECK(std::string(utility_name(Utility::Electricity)) == "electricity");
    CHECK(std::string(utility_name(Utility::Water)) == "water");
    CHECK(std::string(period_name(Period::Sharp)) == "sharp");
    CHECK(std::string(period_name(Period::Peak)) == "peak");
    CHECK(std::string(period_name(Period::Flat)) == "flat");
    CHECK(std::string(period_name(Period::Valley)) == "valley");
    CHECK(std::string(day_kind_name(DayKind::Weekday)) == "weekday");
    CHECK(std::string(day_kind_name(DayKind::Weekend)) == "weekend");
    CHECK(std::string(day_kind_name(DayKind::Holiday)) == "holiday");
}

TEST_CASE("to_micro_units is exact up to 6 decimals") {
    CHECK(*to_micro_units(Decimal{12345, 2}) == 123'450'000);
    CHECK(*to_micro_units(Decimal{1, 6}) == 1);
    CHECK(*to_micro_units(Decimal{-5, 0}) == -5'000'000);
    CHECK_FALSE(to_micro_units(Decimal{1, 7}).has_value());
    CHECK_FALSE(to_micro_units(Decimal{9'223'372'036'855, 0}).has_value());
}

TEST_CASE("version_at picks the version in force, the first before all") {
    Tariff t = flat("0.5");
    t.versions[0].effective_from_ms = 1000;
    TariffVersion second = t.versions[0];
    second.effective_from_ms = 5000;
    second.tiers[0].prices[idx(Period::Flat)] = price("0.6");
    t.versions.push_back(second);
    CHECK(&t.version_at(0) == &t.versions[0]);
    CHECK(&t.version_at(1000) == &t.versions[0]);
    CHECK(&t.version_at(4999) == &t.versions[0]);
    CHECK(&t.version_at(5000) == &t.versions[1]);
    CHECK(&t.version_at(1'000'000) == &t.versions[1]);
}

// --- validation ----------------------------------------------------------------

TEST_CASE("validation accepts the sample tariffs") {
    CHECK(validate(flat("0.5")).has_value());
    CHECK(validate(tiered()).has_value());
    CHECK(validate(tou()).has_value());
}

TEST_CASE("validation reports a gap in a day table with the table's name") {
    Tariff t = tou();
    auto& weekday = t.versions[0].day_tables[static_cast<std::size_t>(DayKind::Weekday)];
    weekday = {{0, 420, Period::Valley}, {480, 1440, Period::Peak}};
    CHECK(error_of(t) == "day table 'weekday' has a gap at 07:00-08:00");
    weekday = {{0, 1380, Period::Peak}};
    CHECK(error_of(t) == "day table 'weekday' has a gap at 23:00-24:00");
    weekday = weekday_table();
    t.versions[0].day_tables[static_cast<std::size_t>(DayKind::Holiday)] = {
        {60, 1440, Period::Valley}};
    CHECK(error_of(t) == "day table 'holiday' has a gap at 00:00-01:00");
}

TEST_CASE("validation reports overlapping periods") {
    Tariff t = tou();
    t.versions[0].day_tables[static_cast<std::size_t>(DayKind::Weekend)] = {
        {0, 540, Period::Valley}, {480, 1440, Period::Peak}};
    CHECK(error_of(t) ==
          "day table 'weekend' has overlapping periods at 08:00-09:00 (valley and peak)");
}

TEST_CASE("validation reports an invalid range") {
    Tariff t = tou();
    auto& weekday = t.versions[0].day_tables[static_cast<std::size_t>(DayKind::Weekday)];
    weekday = {{600, 600, Period::Peak}};
    CHECK(error_of(t) ==
          "day table 'weekday' has an invalid range 10:00-10:00 (needs 00:00 <= start < end <= "
          "24:00)");
    weekday = {{0, 1500, Period::Peak}};
    CHECK(error_of(t).find("invalid range 00:00-1500 min") != std::string::npos);
}

TEST_CASE("validation reports a period with no price in some tier") {
    Tariff t = tou();
    t.versions[0].tiers[0].prices[idx(Period::Sharp)].reset();
    CHECK(error_of(t) ==
          "period sharp is used by day table 'weekday' but tier 1 has no price for it");
    // A flat tariff without a day table needs the flat price.
    Tariff f = flat("0.5");
    f.versions[0].tiers[0].prices[idx(Period::Flat)].reset();
    f.versions[0].tiers[0].prices[idx(Period::Peak)] = price("0.5");
    CHECK(error_of(f) ==
          "period flat is used by the whole day (no day table) but tier 1 has no price for it");
    // Tiers x time of use: every tier needs every period used.
    Tariff both = tou();
    both.versions[0].tiers = {tou_tier(100'000'000, "1.2", "0.9", "0.6", "0.3"),
                              tou_tier(std::nullopt, "1.3", "1.0", "0.7", "0.4")};
    both.versions[0].tiers[1].prices[idx(Period::Valley)].reset();
    CHECK(error_of(both) ==
          "period valley is used by day table 'weekday' but tier 2 has no price for it");
    // A holiday table's own periods count too.
    Tariff h = tou();
    h.versions[0].tiers[0].prices[idx(Period::Sharp)].reset();
    h.versions[0].day_tables[static_cast<std::size_t>(DayKind::Weekday)] = {
        {0, 1440, Period::Flat}};
    CHECK(validate(h).has_value());
    h.versions[0].day_tables[static_cast<std::size_t>(DayKind::Holiday)] = weekday_table();
    CHECK(error_of(h) ==
          "period sharp is used by day table 'holiday' but tier 1 has no price for it");
}

TEST_CASE("validation reports tiers out of order and misplaced bounds") {
    Tariff t = tiered();
    t.versions[0].tiers[1].upper_micro = 150'000'000;
    CHECK(error_of(t) == "tiers out of order: tier 2 up_to 150 is not above tier 1 up_to 200");
    t = tiered();
    t.versions[0].tiers[1].upper_micro = 200'000'000;
    CHECK(error_of(t) == "tiers out of order: tier 2 up_to 200 is not above tier 1 up_to 200");
    t = tiered();
    t.versions[0].tiers[2].upper_micro = 900'500'000;
    CHECK(error_of(t) == "the last tier (tier 3) has up_to 900.5, but it must be unbounded");
    t = tiered();
    t.versions[0].tiers[0].upper_micro.reset();
    CHECK(error_of(t) == "tier 1 has no up_to, but only the last tier may be unbounded");
    t = tiered();
    t.versions[0].tiers[0].upper_micro = 0;
    CHECK(error_of(t) == "tier 1 up_to 0 is not above 0");
    t = tiered();
    t.versions[0].tiers.clear();
    CHECK(error_of(t) == "no tiers");
}

TEST_CASE("validation reports a negative price") {
    Tariff f = flat("0.5");
    f.versions[0].tiers[0].prices[idx(Period::Flat)] = Price::from_micro_yuan(-1);
    CHECK(error_of(f) == "negative price -0.000001 for period flat in tier 1");
    Tariff t = tou();
    t.versions[0].tiers[0].prices[idx(Period::Peak)] = Price::from_micro_yuan(-500'000);
    CHECK(error_of(t) == "negative price -0.500000 for period peak in tier 1");
}

TEST_CASE("validation reports bad billing cycles and negative fixed charges") {
    Tariff t = tiered();
    t.versions[0].cycle.start_day = 29;
    CHECK(error_of(t) == "billing cycle start_day 29 is outside 1..28");
    t.versions[0].cycle.start_day = 0;
    CHECK(error_of(t) == "billing cycle start_day 0 is outside 1..28");
    t = tiered();
    t.versions[0].cycle.length = BillingCycle::Length::Yearly;
    t.versions[0].cycle.start_month = 13;
    CHECK(error_of(t) == "billing cycle start_month 13 is outside 1..12");
    t = tiered();
    t.versions[0].fixed_daily_fen = -1;
    CHECK(error_of(t) == "negative daily fixed charge (-1 fen)");
    t = tiered();
    t.versions[0].fixed_monthly_fen = -500;
    CHECK(error_of(t) == "negative monthly fixed charge (-500 fen)");
}

TEST_CASE("validation reports versions out of order and names the failing version") {
    Tariff t = flat("0.5");
    t.versions.push_back(t.versions[0]);
    t.versions[0].effective_from_ms = at(2026, 7, 1);
    t.versions[1].effective_from_ms = at(2026, 1, 1);
    CHECK(error_of(t) ==
          "versions out of order: version 2 effective_from 2025-12-31 16:00:00 UTC is not after "
          "version 1 effective_from 2026-06-30 16:00:00 UTC");
    t.versions[1].effective_from_ms = at(2026, 7, 1);
    CHECK(error_of(t).find("versions out of order") == 0);
    t.versions[1].effective_from_ms = at(2027, 1, 1);
    t.versions[1].tiers.clear();
    CHECK(error_of(t) == "version 2 (effective_from 2026-12-31 16:00:00 UTC): no tiers");
    Tariff none = flat("0.5");
    none.versions.clear();
    CHECK(error_of(none) == "no versions");
    Tariff nameless = flat("0.5");
    nameless.id.clear();
    CHECK(error_of(nameless) == "tariff has no id");
}

// --- flat and tiers ------------------------------------------------------------

TEST_CASE("flat tariff charges whole fen and carries the exact remainder") {
    const Tariff t = flat("0.5283");
    RatingState state;
    // 123.45 kWh x 0.5283 = 65.218635 yuan = 6521.8635 fen
    const Charge c =
        rate_ok(t, reading(100000, 112345, 2, at(2026, 11, 24, 9), at(2026, 11, 24, 10)), state);
    CHECK(c.fen == 6521);
    CHECK(c.consumption_micro == 123'450'000);
    CHECK(c.total_pico_yuan() == 65'218'635'000'000);
    CHECK(c.lines ==
          std::vector<ChargeLine>{line(20261124, 0, 0, Period::Flat, 123'450'000, "0.5283")});
    CHECK(state.remainder_pico_yuan == 8'635'000'000);
    CHECK(state.cycle_key == 20261101);
    CHECK(state.cycle_consumed_micro == 123'450'000);
    // 0.26 kWh more = 13.7358 fen; with the carried 0.8635 fen: 14.5993
    const Charge c2 =
        rate_ok(t, reading(112345, 112371, 2, at(2026, 11, 24, 10), at(2026, 11, 24, 11)), state);
    CHECK(c2.fen == 14);
    CHECK(state.remainder_pico_yuan == 5'993'000'000);
}

TEST_CASE("1000 intervals of 0.01 kWh cost the same as one of 10 kWh") {
    const Tariff t = flat("0.5283");
    const std::int64_t t0 = at(2026, 11, 24);
    RatingState whole_state;
    const Charge whole = rate_ok(t, reading(0, 1000, 2, t0, t0 + 1000 * kMinute), whole_state);
    CHECK(whole.fen == 528);  // 5.283 yuan
    RatingState parts_state;
    std::int64_t parts = 0;
    for (std::int64_t i = 0; i < 1000; ++i) {
        parts +=
            rate_ok(t, reading(i, i + 1, 2, t0 + i * kMinute, t0 + (i + 1) * kMinute), parts_state)
                .fen;
    }
    CHECK(parts == whole.fen);
    CHECK(parts_state == whole_state);
}

TEST_CASE("tiers split exactly at the boundary by consumption") {
    const Tariff t = tiered();
    RatingState state = in_cycle(20261124, 190'000'000);
    const Charge c =
        rate_ok(t, reading(1000, 1250, 1, at(2026, 11, 24, 9), at(2026, 11, 24, 10)), state);
    CHECK(c.lines ==
          std::vector<ChargeLine>{line(20261124, 0, 0, Period::Flat, 10'000'000, "0.5283"),
                                  line(20261124, 0, 1, Period::Flat, 15'000'000, "0.5783")});
    // 10 x 0.5283 + 15 x 0.5783 = 5.283 + 8.6745 = 13.9575 yuan
    CHECK(c.fen == 1395);
    CHECK(state.remainder_pico_yuan == 7'500'000'000);
    CHECK(state.cycle_consumed_micro == 215'000'000);
}

TEST_CASE("tiers spanning all three are not rounded per tier") {
    const Tariff t = tiered();
    RatingState state = in_cycle(20261124, 50'000'000);
    const Charge c =
        rate_ok(t, reading(0, 400000, 3, at(2026, 11, 24, 9), at(2026, 11, 24, 10)), state);
    REQUIRE(c.lines.size() == 3);
    CHECK(c.lines[0].consumption_micro == 150'000'000);
    CHECK(c.lines[1].consumption_micro == 200'000'000);
    CHECK(c.lines[2].consumption_micro == 50'000'000);
    CHECK(c.fen == 23632);  // 79.245 + 115.66 + 41.415 = 236.32 yuan
    CHECK(state.remainder_pico_yuan == 0);
    CHECK(state.cycle_consumed_micro == 450'000'000);
}

TEST_CASE("consecutive intervals keep filling the tiers of the cycle") {
    const Tariff t = tiered();
    RatingState state;
    const std::int64_t t0 = at(2026, 11, 2);
    const Charge a = rate_ok(t, reading(0, 150, 0, t0, t0 + kDay), state);
    CHECK(consumption_in_tier(a, 0) == 150'000'000);
    const Charge b = rate_ok(t, reading(150, 300, 0, t0 + kDay, t0 + 2 * kDay), state);
    CHECK(consumption_in_tier(b, 0) == 50'000'000);
    CHECK(consumption_in_tier(b, 1) == 100'000'000);
    CHECK(state.cycle_consumed_micro == 300'000'000);
}

// --- time of use -----------------------------------------------------------------

TEST_CASE("time of use splits an interval straddling a boundary by time") {
    const Tariff t = tou();
    RatingState state;
    // 6.00 kWh over 17:50-18:20 on a Tuesday
    const Charge c =
        rate_ok(t, reading(0, 600, 2, at(2026, 11, 24, 17, 50), at(2026, 11, 24, 18, 20)), state);
    CHECK(c.lines ==
          std::vector<ChargeLine>{line(20261124, 0, 0, Period::Peak, 2'000'000, "0.9"),
                                  line(20261124, 0, 0, Period::Sharp, 4'000'000, "1.2")});
    CHECK(c.fen == 180 + 480);  // 2 x 0.9 + 4 x 1.2
}

TEST_CASE("time of use across midnight puts each part on its own day") {
    const Tariff t = tou();
    RatingState state;
    // 23:30-00:30 is valley on both sides
    const Charge c =
        rate_ok(t, reading(0, 100, 2, at(2026, 11, 24, 23, 30), at(2026, 11, 25, 0, 30)), state);
    CHECK(c.lines == std::vector<ChargeLine>{line(20261124, 0, 0, Period::Valley, 500'000, "0.3"),
                                             line(20261125, 0, 0, Period::Valley, 500'000, "0.3")});
    CHECK(c.fen == 30);
}

TEST_CASE("time of use proportional split keeps every micro unit") {
    const Tariff t = tou();
    RatingState state;
    // 0.001 kWh over 07:59-08:02: 1 min valley, 2 min flat
    const Charge c =
        rate_ok(t, reading(0, 1, 3, at(2026, 11, 24, 7, 59), at(2026, 11, 24, 8, 2)), state);
    CHECK(consumption_in(c, Period::Valley) == 333);
    CHECK(consumption_in(c, Period::Flat) == 667);
}

TEST_CASE("largest remainder ties go to the earliest segment") {
    const Tariff t = tou();
    RatingState state;
    // 1 micro-unit over 07:59-08:01: equal halves, the valley minute comes first.
    const Charge c =
        rate_ok(t, reading(0, 1, 6, at(2026, 11, 24, 7, 59), at(2026, 11, 24, 8, 1)), state);
    CHECK(consumption_in(c, Period::Valley) == 1);
    CHECK(consumption_in(c, Period::Flat) == 0);
}

TEST_CASE("time of use interval spanning several days counts whole days") {
    const Tariff t = tou();
    RatingState state;
    // 2940 kWh over 2 days + 1 hour from Tuesday 00:00, 1 kWh per minute
    const Charge c = rate_ok(t, reading(0, 2940, 0, at(2026, 11, 24), at(2026, 11, 26, 1)), state);
    // valley has 2 x 540 + 60 minutes, flat 2 x 360, peak 2 x 480, sharp 2 x 60
    CHECK(consumption_in(c, Period::Valley) == 1140'000'000);
    CHECK(consumption_in(c, Period::Flat) == 720'000'000);
    CHECK(consumption_in(c, Period::Peak) == 960'000'000);
    CHECK(consumption_in(c, Period::Sharp) == 120'000'000);
    // Lines per day: 6 ranges on each of 2 days, the third day's first hour.
    CHECK(c.lines.size() == 13);
    CHECK(c.lines.back() == line(20261126, 0, 0, Period::Valley, 60'000'000, "0.3"));
}

TEST_CASE("tiers combined with time of use fill tiers in time order") {
    TariffVersion v = tou_version();
    v.tiers = {tou_tier(10'000'000, "1.2", "0.9", "0.6", "0.3"),
               tou_tier(std::nullopt, "1.4", "1.1", "0.8", "0.5")};
    const Tariff t = with_version(v);
    REQUIRE(validate(t).has_value());
    RatingState state = in_cycle(20261124, 2'000'000);
    // 07:00-11:00, 4 kWh per hour: valley 4 (to 6 in the cycle), flat 8 (4 in tier 1,
    // 4 in tier 2), peak 4 in tier 2.
    const Charge c =
        rate_ok(t, reading(0, 16, 0, at(2026, 11, 24, 7), at(2026, 11, 24, 11)), state);
    CHECK(c.lines == std::vector<ChargeLine>{line(20261124, 0, 0, Period::Valley, 4'000'000, "0.3"),
                                             line(20261124, 0, 0, Period::Flat, 4'000'000, "0.6"),
                                             line(20261124, 0, 1, Period::Flat, 4'000'000, "0.8"),
                                             line(20261124, 0, 1, Period::Peak, 4'000'000, "1.1")});
    CHECK(c.fen == 120 + 240 + 320 + 440);
    CHECK(state.cycle_consumed_micro == 18'000'000);
}

TEST_CASE("weekend and holiday days use their own day tables") {
    Tariff t = tou();
    t.versions[0].day_tables[static_cast<std::size_t>(DayKind::Weekend)] = {
        {0, 1440, Period::Flat}};
    t.versions[0].day_tables[static_cast<std::size_t>(DayKind::Holiday)] = {
        {0, 1440, Period::Valley}};
    const Calendar cal = Calendar::fixed_offset(8 * 3600, {20261001});
    RatingState state;
    // Saturday 10:00-11:00 would be peak on a weekday.
    const Charge sat =
        rate_ok(t, reading(0, 1, 0, at(2026, 11, 28, 10), at(2026, 11, 28, 11)), state, cal);
    CHECK(sat.lines ==
          std::vector<ChargeLine>{line(20261128, 0, 0, Period::Flat, 1'000'000, "0.6")});
    // National day (a Thursday) is a holiday.
    const Charge holiday =
        rate_ok(t, reading(0, 1, 0, at(2026, 10, 1, 10), at(2026, 10, 1, 11)), state, cal);
    CHECK(holiday.lines ==
          std::vector<ChargeLine>{line(20261001, 0, 0, Period::Valley, 1'000'000, "0.3")});
    // Friday 23:00 to Saturday 01:00: valley, then the weekend's flat.
    const Charge night =
        rate_ok(t, reading(0, 2, 0, at(2026, 11, 27, 23), at(2026, 11, 28, 1)), state, cal);
    CHECK(night.lines ==
          std::vector<ChargeLine>{line(20261127, 0, 0, Period::Valley, 1'000'000, "0.3"),
                                  line(20261128, 0, 0, Period::Flat, 1'000'000, "0.6")});
}

TEST_CASE("an empty weekend table means the weekday table") {
    const Tariff t = tou();
    RatingState state;
    const Charge sat =
        rate_ok(t, reading(0, 1, 0, at(2026, 11, 28, 10), at(2026, 11, 28, 11)), state);
    CHECK(sat.lines ==
          std::vector<ChargeLine>{line(20261128, 0, 0, Period::Peak, 1'000'000, "0.9")});
}

TEST_CASE("a weekend day worked (workday) uses the weekday table") {
    Tariff t = tou();
    t.versions[0].day_tables[static_cast<std::size_t>(DayKind::Weekend)] = {
        {0, 1440, Period::Valley}};
    const Calendar cal = Calendar::fixed_offset(8 * 3600, {}, {20261010});
    RatingState state;
    const Charge worked =
        rate_ok(t, reading(0, 1, 0, at(2026, 10, 10, 10), at(2026, 10, 10, 11)), state, cal);
    CHECK(worked.lines ==
          std::vector<ChargeLine>{line(20261010, 0, 0, Period::Peak, 1'000'000, "0.9")});
    const Charge sunday =
        rate_ok(t, reading(0, 1, 0, at(2026, 10, 11, 10), at(2026, 10, 11, 11)), state, cal);
    CHECK(sunday.lines ==
          std::vector<ChargeLine>{line(20261011, 0, 0, Period::Valley, 1'000'000, "0.3")});
}

TEST_CASE("the meter's own period registers replace the split by time") {
    const Tariff t = tou();
    RatingState state;
    // 07:00-11:00 is valley 1 h, flat 2 h, peak 1 h; the meter says it used
    // 1 kWh valley, 5 kWh flat, 2 kWh peak.
    Interval iv = reading(0, 800, 2, at(2026, 11, 24, 7), at(2026, 11, 24, 11));
    iv.period_micro = std::array<std::int64_t, kPeriodCount>{0, 2'000'000, 5'000'000, 1'000'000};
    const Charge c = rate_ok(t, iv, state);
    CHECK(c.lines == std::vector<ChargeLine>{line(20261124, 0, 0, Period::Valley, 1'000'000, "0.3"),
                                             line(20261124, 0, 0, Period::Flat, 5'000'000, "0.6"),
                                             line(20261124, 0, 0, Period::Peak, 2'000'000, "0.9")});
}

TEST_CASE("period registers keep each period's consumption on its days") {
    const Tariff t = tou();
    RatingState state;
    // 22:00-02:00: flat 22-23, valley 23-24 and 00-02. The meter's 3 kWh valley is
    // shared over its 3 valley hours.
    Interval iv = reading(0, 4, 0, at(2026, 11, 24, 22), at(2026, 11, 25, 2));
    iv.period_micro = std::array<std::int64_t, kPeriodCount>{0, 0, 1'000'000, 3'000'000};
    const Charge c = rate_ok(t, iv, state);
    CHECK(c.lines ==
          std::vector<ChargeLine>{line(20261124, 0, 0, Period::Flat, 1'000'000, "0.6"),
                                  line(20261124, 0, 0, Period::Valley, 1'000'000, "0.3"),
                                  line(20261125, 0, 0, Period::Valley, 2'000'000, "0.3")});
}

TEST_CASE("period registers are reconciled exactly with the total register") {
    const Tariff t = tou();
    RatingState state;
    // The total says 8.00 kWh, the periods 8.01 kWh: shared in proportion.
    Interval iv = reading(0, 800, 2, at(2026, 11, 24, 7), at(2026, 11, 24, 11));
    iv.period_micro = std::array<std::int64_t, kPeriodCount>{0, 2'000'000, 5'010'000, 1'000'000};
    const Charge c = rate_ok(t, iv, state);
    CHECK(consumption_in(c, Period::Valley) + consumption_in(c, Period::Flat) +
              consumption_in(c, Period::Peak) ==
          8'000'000);
    // 8 x 5.01 / 8.01 = 5.003745.3; the leftover micro-unit goes to valley (.56)
    CHECK(consumption_in(c, Period::Flat) == 5'003'745);
    CHECK(consumption_in(c, Period::Valley) == 998'752);
}

TEST_CASE("period register amounts outside the interval's periods are split by time") {
    const Tariff t = tou();
    RatingState state;
    // 10:00-12:00 is all peak, but the meter put 1 kWh in sharp (its clock is off).
    Interval iv = reading(0, 3, 0, at(2026, 11, 24, 10), at(2026, 11, 24, 12));
    iv.period_micro = std::array<std::int64_t, kPeriodCount>{1'000'000, 2'000'000, 0, 0};
    const Charge c = rate_ok(t, iv, state);
    CHECK(c.lines == std::vector<ChargeLine>{line(20261124, 0, 0, Period::Peak, 3'000'000, "0.9")});
}

TEST_CASE("a zero-length interval is rated at its instant") {
    const Tariff t = tou();
    RatingState state;
    const std::int64_t when = at(2026, 11, 24, 18, 30);
    const Charge c = rate_ok(t, reading(0, 5, 0, when, when), state);
    CHECK(c.lines ==
          std::vector<ChargeLine>{line(20261124, 0, 0, Period::Sharp, 5'000'000, "1.2")});
    CHECK(c.fen == 600);
}

namespace {

// A zone at +1 h with daylight saving (+2 h) between two UTC instants.
Calendar dst_calendar(std::int64_t dst_from, std::int64_t dst_until) {
    return Calendar([dst_from, dst_until](std::int64_t utc_ms) {
        const std::int64_t offset = (utc_ms >= dst_from && utc_ms < dst_until) ? 2 * kHour : kHour;
        const std::int64_t local = utc_ms + offset;
        const std::int64_t days = local / kDay;  // after 1970 only
        LocalTime t = civil_from_days(days);
        t.ms_of_day = local - days * kDay;
        return t;
    });
}

std::int64_t utc(int y, int mo, int d, int h = 0, int mi = 0) {
    return days_from_civil(y, mo, d) * kDay + h * kHour + mi * kMinute;
}

}  // namespace

TEST_CASE("time of use follows the local clock when it goes forward") {
    // 2026-03-29 01:00 UTC: local 02:00 -> 03:00. valley to 03:00, flat after.
    const Calendar cal = dst_calendar(utc(2026, 3, 29, 1), utc(2026, 10, 25, 1));
    TariffVersion v = tou_version();
    v.day_tables[0] = {{0, 180, Period::Valley}, {180, 1440, Period::Flat}};
    const Tariff t = with_version(v);
    RatingState state;
    // 00:00-02:00 UTC is local 01:00-02:00 (valley), then 03:00-04:00 (flat).
    const Charge c =
        rate_ok(t, reading(0, 2, 0, utc(2026, 3, 29, 0), utc(2026, 3, 29, 2)), state, cal);
    CHECK(c.lines == std::vector<ChargeLine>{line(20260329, 0, 0, Period::Valley, 1'000'000, "0.3"),
                                             line(20260329, 0, 0, Period::Flat, 1'000'000, "0.6")});
}

TEST_CASE("time of use follows the local clock when it goes back") {
    // 2026-10-25 01:00 UTC: local 03:00 -> 02:00. valley to 02:30, flat after.
    const Calendar cal = dst_calendar(utc(2026, 3, 29, 1), utc(2026, 10, 25, 1));
    TariffVersion v = tou_version();
    v.day_tables[0] = {{0, 150, Period::Valley}, {150, 1440, Period::Flat}};
    const Tariff t = with_version(v);
    RatingState state;
    // 00:00-02:00 UTC is local 02:00-03:00 twice: 02:30-03:00 is flat each time.
    const Charge c =
        rate_ok(t, reading(0, 4, 0, utc(2026, 10, 25, 0), utc(2026, 10, 25, 2)), state, cal);
    CHECK(c.lines == std::vector<ChargeLine>{line(20261025, 0, 0, Period::Valley, 1'000'000, "0.3"),
                                             line(20261025, 0, 0, Period::Flat, 1'000'000, "0.6"),
                                             line(20261025, 0, 0, Period::Valley, 1'000'000, "0.3"),
                                             line(20261025, 0, 0, Period::Flat, 1'000'000, "0.6")});
}

TEST_CASE("a 23-hour and a 25-hour day each get one daily fixed charge") {
    const Calendar cal = dst_calendar(utc(2026, 3, 29, 1), utc(2026, 10, 25, 1));
    Tariff t = flat("0.5");
    t.versions[0].fixed_daily_fen = 7;
    const auto spring = fixed_charges_due(t, cal, utc(2026, 3, 27, 12), utc(2026, 3, 30, 12));
    CHECK(spring == std::vector<FixedCharge>{{FixedCharge::Kind::Daily, 20260328, 7},
                                             {FixedCharge::Kind::Daily, 20260329, 7},
                                             {FixedCharge::Kind::Daily, 20260330, 7}});
    const auto autumn = fixed_charges_due(t, cal, utc(2026, 10, 24, 12), utc(2026, 10, 26, 12));
    CHECK(autumn == std::vector<FixedCharge>{{FixedCharge::Kind::Daily, 20261025, 7},
                                             {FixedCharge::Kind::Daily, 20261026, 7}});
}

// --- versions and billing cycles ---------------------------------------------------

TEST_CASE("a new version prices only what is used after it takes effect") {
    Tariff t = flat("0.5");
    TariffVersion next = t.versions[0];
    next.effective_from_ms = at(2026, 7, 1);
    next.tiers[0].prices[idx(Period::Flat)] = price("0.6");
    t.versions.push_back(next);
    REQUIRE(validate(t).has_value());
    RatingState state;
    // A reading from before the change is priced by the old version, even if it is
    // rated later.
    const Charge before =
        rate_ok(t, reading(0, 10, 0, at(2026, 6, 30, 10), at(2026, 6, 30, 20)), state);
    CHECK(before.lines ==
          std::vector<ChargeLine>{line(20260630, 0, 0, Period::Flat, 10'000'000, "0.5")});
    // Noon to noon across the change: 12 kWh at each price.
    const Charge across =
        rate_ok(t, reading(0, 24, 0, at(2026, 6, 30, 12), at(2026, 7, 1, 12)), state);
    CHECK(across.lines ==
          std::vector<ChargeLine>{line(20260630, 0, 0, Period::Flat, 12'000'000, "0.5"),
                                  line(20260701, 1, 0, Period::Flat, 12'000'000, "0.6")});
    CHECK(across.fen == 600 + 720);
}

TEST_CASE("a version taking effect mid-day cuts the interval there") {
    Tariff t = flat("0.5");
    TariffVersion next = t.versions[0];
    next.effective_from_ms = at(2026, 7, 1, 10, 30);
    next.tiers[0].prices[idx(Period::Flat)] = price("1");
    t.versions.push_back(next);
    RatingState state;
    const Charge c = rate_ok(t, reading(0, 4, 0, at(2026, 7, 1, 10), at(2026, 7, 1, 12)), state);
    CHECK(c.lines == std::vector<ChargeLine>{line(20260701, 0, 0, Period::Flat, 1'000'000, "0.5"),
                                             line(20260701, 1, 0, Period::Flat, 3'000'000, "1")});
}

TEST_CASE("a monthly billing cycle start resets the tiers at local midnight") {
    const Tariff t = tiered();
    RatingState state = in_cycle(20261130, 250'000'000);
    // Noon to noon over 1 December: 12 kWh in November's tier 2, 12 in December's tier 1.
    const Charge c =
        rate_ok(t, reading(0, 24, 0, at(2026, 11, 30, 12), at(2026, 12, 1, 12)), state);
    CHECK(c.lines ==
          std::vector<ChargeLine>{line(20261130, 0, 1, Period::Flat, 12'000'000, "0.5783"),
                                  line(20261201, 0, 0, Period::Flat, 12'000'000, "0.5283")});
    CHECK(state.cycle_key == 20261201);
    CHECK(state.cycle_consumed_micro == 12'000'000);
}

TEST_CASE("a monthly cycle from the 15th resets on the 15th only") {
    TariffVersion v = tiered_version();
    v.cycle.start_day = 15;
    const Tariff t = with_version(v);
    RatingState state;
    state.cycle_key = 20261015;
    state.cycle_consumed_micro = 390'000'000;
    // 1 November is inside the cycle that started 15 October: no reset.
    const Charge nov1 =
        rate_ok(t, reading(0, 20, 0, at(2026, 10, 31, 12), at(2026, 11, 1, 12)), state);
    CHECK(consumption_in_tier(nov1, 1) == 10'000'000);
    CHECK(consumption_in_tier(nov1, 2) == 10'000'000);
    CHECK(state.cycle_key == 20261015);
    const Charge nov15 =
        rate_ok(t, reading(20, 30, 0, at(2026, 11, 14, 23), at(2026, 11, 15, 1)), state);
    CHECK(nov15.lines ==
          std::vector<ChargeLine>{line(20261114, 0, 2, Period::Flat, 5'000'000, "0.8283"),
                                  line(20261115, 0, 0, Period::Flat, 5'000'000, "0.5283")});
    CHECK(state.cycle_key == 20261115);
    CHECK(state.cycle_consumed_micro == 5'000'000);
}

TEST_CASE("a yearly billing cycle resets the tiers at the new year only") {
    TariffVersion v = tiered_version();
    v.cycle.length = BillingCycle::Length::Yearly;
    const Tariff t = with_version(v);
    RatingState state;
    state.cycle_key = 20260101;
    state.cycle_consumed_micro = 199'000'000;
    // A month boundary does not reset a yearly cycle.
    const Charge dec =
        rate_ok(t, reading(0, 2, 0, at(2026, 11, 30, 23), at(2026, 12, 1, 1)), state);
    CHECK(consumption_in_tier(dec, 0) == 1'000'000);
    CHECK(consumption_in_tier(dec, 1) == 1'000'000);
    CHECK(state.cycle_consumed_micro == 201'000'000);
    const Charge ny = rate_ok(t, reading(2, 4, 0, at(2026, 12, 31, 23), at(2027, 1, 1, 1)), state);
    CHECK(ny.lines ==
          std::vector<ChargeLine>{line(20261231, 0, 1, Period::Flat, 1'000'000, "0.5783"),
                                  line(20270101, 0, 0, Period::Flat, 1'000'000, "0.5283")});
    CHECK(state.cycle_key == 20270101);
    CHECK(state.cycle_consumed_micro == 1'000'000);
}

TEST_CASE("a fresh state starts a cycle from zero") {
    const Tariff t = tiered();
    RatingState state;
    state.cycle_consumed_micro = 399'000'000;  // no cycle key: not trusted
    const Charge c = rate_ok(t, reading(0, 1, 0, at(2026, 11, 24, 9), at(2026, 11, 24, 10)), state);
    CHECK(consumption_in_tier(c, 0) == 1'000'000);
    CHECK(state.cycle_key == 20261101);
}

// --- failures ------------------------------------------------------------------

TEST_CASE("rating rejects bad intervals and leaves the state alone") {
    RatingState state = in_cycle(20261124, 7, 123);
    const RatingState before = state;
    const std::int64_t t0 = at(2026, 11, 24, 9);
    const Tariff f = flat("0.5");
    CHECK(rate_error(f, reading(10, 9, 0, t0, t0 + kHour), state) ==
          "register went backwards (10 -> 9)");
    CHECK(rate_error(f, reading(0, 1, 7, t0, t0 + kHour), state).find("more than 6 decimals") !=
          std::string::npos);
    CHECK(rate_error(f, reading(0, 1, 0, t0, t0 - 1), state).find("ends before it starts") !=
          std::string::npos);
    Tariff bad = tou();
    bad.versions[0].day_tables[0].pop_back();
    CHECK(rate_error(bad, reading(0, 1, 0, t0, t0 + kHour), state) ==
          "tariff 'tou': day table 'weekday' has a gap at 23:00-24:00");
    Interval negative = reading(0, 1, 0, t0, t0 + 2 * kHour);
    negative.period_micro = std::array<std::int64_t, kPeriodCount>{0, -1, 0, 0};
    CHECK(rate_error(tou(), negative, state) == "the meter's peak register went backwards");
    CHECK(state == before);
    RatingState broken;
    broken.remainder_pico_yuan = kPicoYuanPerFen;
    CHECK(rate_error(f, reading(0, 1, 0, t0, t0 + kHour), broken).find("remainder") !=
          std::string::npos);
}

TEST_CASE("an interval with no consumption charges nothing") {
    RatingState state = in_cycle(20261124, 7, 123);
    const std::int64_t t0 = at(2026, 11, 24, 9);
    const Charge zero = rate_ok(flat("0.5"), reading(5, 5, 0, t0, t0 + kHour), state);
    CHECK(zero.fen == 0);
    CHECK(zero.lines.empty());
    CHECK(state.remainder_pico_yuan == 123);
    CHECK(state.cycle_consumed_micro == 7);
}

TEST_CASE("amounts beyond int64 fail instead of wrapping") {
    const Tariff t = flat("1000000");
    RatingState state;
    const std::int64_t t0 = at(2026, 11, 24, 9);
    // 10^7 kWh x 10^6 yuan = 10^13 yuan = 10^25 pico-yuan.
    CHECK(rate_error(t, reading(0, 10'000'000, 0, t0, t0 + kHour), state).find("too large") !=
          std::string::npos);
    CHECK(state == RatingState{});
}

// --- fixed charges -------------------------------------------------------------

TEST_CASE("daily fixed charges fall due for each local day started in the range") {
    Tariff t = flat("0.5");
    t.versions[0].fixed_daily_fen = 30;
    const Calendar& cal = shanghai();
    // (after, until]: 25th and 26th start inside; the 24th's midnight is excluded.
    const auto due = fixed_charges_due(t, cal, at(2026, 11, 24), at(2026, 11, 26));
    CHECK(due == std::vector<FixedCharge>{{FixedCharge::Kind::Daily, 20261125, 30},
                                          {FixedCharge::Kind::Daily, 20261126, 30}});
    CHECK(fixed_charges_due(t, cal, at(2026, 11, 24, 1), at(2026, 11, 24, 23)).empty());
    CHECK(fixed_charges_due(t, cal, at(2026, 11, 24) - 1, at(2026, 11, 24)).size() == 1);
    CHECK(fixed_charges_due(t, cal, at(2026, 11, 26), at(2026, 11, 24)).empty());
}

TEST_CASE("monthly fixed charges fall due on the cycle's start day") {
    TariffVersion v = tiered_version();
    v.cycle.start_day = 15;
    v.fixed_monthly_fen = 1000;
    Tariff t = with_version(v);
    const auto due = fixed_charges_due(t, shanghai(), at(2026, 10, 1), at(2026, 12, 31));
    CHECK(due == std::vector<FixedCharge>{{FixedCharge::Kind::Monthly, 20261015, 1000},
                                          {FixedCharge::Kind::Monthly, 20261115, 1000},
                                          {FixedCharge::Kind::Monthly, 20261215, 1000}});
    // Yearly cycles still charge monthly on start_day.
    t.versions[0].cycle.length = BillingCycle::Length::Yearly;
    CHECK(fixed_charges_due(t, shanghai(), at(2026, 10, 1), at(2026, 12, 31)).size() == 3);
}

TEST_CASE("fixed charges use the version in force at each day's start") {
    Tariff t = flat("0.5");
    t.versions[0].fixed_daily_fen = 10;
    t.versions[0].fixed_monthly_fen = 500;
    TariffVersion next = t.versions[0];
    next.effective_from_ms = at(2026, 12, 1);
    next.fixed_daily_fen = 0;
    next.fixed_monthly_fen = 800;
    t.versions.push_back(next);
    const auto due = fixed_charges_due(t, shanghai(), at(2026, 11, 29, 12), at(2026, 12, 2, 12));
    CHECK(due == std::vector<FixedCharge>{{FixedCharge::Kind::Daily, 20261130, 10},
                                          {FixedCharge::Kind::Monthly, 20261201, 800}});
}

// --- properties ------------------------------------------------------------------

namespace {

struct Rng {
    std::mt19937_64 engine;
    explicit Rng(std::uint64_t seed) : engine(seed) {}
    std::int64_t operator()(std::int64_t lo, std::int64_t hi) {
        return std::uniform_int_distribution<std::int64_t>(lo, hi)(engine);
    }
};

Price random_price(Rng& rng) { return Price::from_micro_yuan(rng(0, 3'000'000)); }

std::vector<TouRange> random_table(Rng& rng) {
    std::set<std::int64_t> cuts{0, kMinutesPerDay};
    const std::int64_t n = rng(0, 8);
    for (std::int64_t i = 0; i < n; ++i) cuts.insert(rng(1, kMinutesPerDay - 1));
    const std::vector<std::int64_t> c(cuts.begin(), cuts.end());
    std::vector<TouRange> table;
    for (std::size_t i = 0; i + 1 < c.size(); ++i) {
        table.push_back({c[i], c[i + 1], static_cast<Period>(rng(0, 3))});
    }
    return table;
}

enum class Shape { Flat, Tiered, TimeOfUse, TieredTimeOfUse };

TariffVersion random_version(Rng& rng, Shape shape) {
    TariffVersion v;
    const bool tou = shape == Shape::TimeOfUse || shape == Shape::TieredTimeOfUse;
    const bool tiers = shape == Shape::Tiered || shape == Shape::TieredTimeOfUse;
    const std::int64_t n = tiers ? rng(1, 4) : 1;
    std::int64_t bound = 0;
    for (std::int64_t i = 0; i < n; ++i) {
        Tier tier;
        if (i + 1 < n) {
            bound += rng(1, 500'000'000);
            tier.upper_micro = bound;
        }
        if (tou) {
            for (auto& p : tier.prices) p = random_price(rng);
        } else {
            tier.prices[idx(Period::Flat)] = random_price(rng);
        }
        v.tiers.push_back(tier);
    }
    if (tou) {
        for (auto& table : v.day_tables) {
            if (rng(0, 2) != 0) table = random_table(rng);
        }
        if (v.day_tables[0].empty()) v.day_tables[0] = random_table(rng);
    }
    v.cycle.start_day = static_cast<int>(rng(1, 28));
    if (rng(0, 1) == 0) {
        v.cycle.length = BillingCycle::Length::Yearly;
        v.cycle.start_month = static_cast<int>(rng(1, 12));
    }
    return v;
}

// What every charge must satisfy, whatever the tariff and interval.
void check_charge_invariants(const Tariff& t, const Charge& c, const RatingState& before,
                             const RatingState& after) {
    std::int64_t consumption = 0;
    for (std::size_t i = 0; i < c.lines.size(); ++i) {
        const ChargeLine& l = c.lines[i];
        CHECK(l.consumption_micro > 0);
        consumption += l.consumption_micro;
        CHECK(l.amount_pico_yuan == l.consumption_micro * l.price.micro_yuan);
        REQUIRE(l.version < t.versions.size());
        REQUIRE(l.tier < t.versions[l.version].tiers.size());
        CHECK(t.versions[l.version].tiers[l.tier].prices[idx(l.period)] == l.price);
        if (i > 0) {
            const ChargeLine& p = c.lines[i - 1];
            CHECK(p.date_key <= l.date_key);
            CHECK(p.version <= l.version);
            CHECK_FALSE((p.date_key == l.date_key && p.version == l.version && p.tier == l.tier &&
                         p.period == l.period));
        }
    }
    CHECK(consumption == c.consumption_micro);
    CHECK(c.fen >= 0);
    CHECK(after.remainder_pico_yuan >= 0);
    CHECK(after.remainder_pico_yuan < kPicoYuanPerFen);
    CHECK(static_cast<Wide>(c.fen) * kPicoYuanPerFen + after.remainder_pico_yuan ==
          static_cast<Wide>(before.remainder_pico_yuan) + c.total_pico_yuan());
}

}  // namespace

TEST_CASE("property: flat and tiered tariffs cost exactly the same split or whole") {
    Rng rng(20260611);
    const Calendar& cal = shanghai();
    for (int round = 0; round < 2000; ++round) {
        const Shape shape = round % 2 == 0 ? Shape::Flat : Shape::Tiered;
        TariffVersion v = random_version(rng, shape);
        // Tiers are exact by consumption within one billing cycle: keep the interval
        // in one (from the cycle's start day, at most 20 days).
        v.cycle.length = BillingCycle::Length::Monthly;
        const Tariff t = with_version(v);
        REQUIRE(validate(t).has_value());
        const int month = static_cast<int>(rng(1, 12));
        const std::int64_t start = at(2026, month, v.cycle.start_day) + rng(0, 4 * kDay);
        const std::int64_t duration = rng(0, 16 * kDay);
        // Any readings in between, not only a steady rate.
        const std::int64_t pieces = rng(1, 50);
        std::set<std::int64_t> times{start, start + duration};
        for (std::int64_t i = 1; i < pieces; ++i) times.insert(start + rng(0, duration));
        const std::int64_t first_register = rng(0, 1'000'000'000);
        std::vector<std::int64_t> registers{first_register};
        for (std::size_t i = 1; i < times.size(); ++i) {
            registers.push_back(registers.back() + rng(0, 50'000'000));
        }
        RatingState initial;
        initial.remainder_pico_yuan = rng(0, kPicoYuanPerFen - 1);
        initial.cycle_key = cycle_start_key(v.cycle, cal.local(start).date_key());
        initial.cycle_consumed_micro = rng(0, 1'000'000'000);

        RatingState whole_state = initial;
        const Charge whole =
            rate_ok(t, reading(registers.front(), registers.back(), 3, start, start + duration),
                    whole_state);
        check_charge_invariants(t, whole, initial, whole_state);

        RatingState parts_state = initial;
        std::int64_t parts_fen = 0;
        const std::vector<std::int64_t> ts(times.begin(), times.end());
        for (std::size_t i = 0; i + 1 < ts.size(); ++i) {
            const RatingState before = parts_state;
            const Charge c = rate_ok(
                t, reading(registers[i], registers[i + 1], 3, ts[i], ts[i + 1]), parts_state);
            check_charge_invariants(t, c, before, parts_state);
            parts_fen += c.fen;
        }
        INFO("round " << round);
        CHECK(parts_fen == whole.fen);
        CHECK(parts_state == whole_state);
    }
}

TEST_CASE("property: time-of-use tariffs agree within 1 fen split or whole at a steady rate") {
    Rng rng(4242);
    const Calendar cal =
        Calendar::fixed_offset(8 * 3600, {20261001, 20261002, 20261231}, {20261010, 20261128});
    for (int round = 0; round < 1500; ++round) {
        const Shape shape = round % 2 == 0 ? Shape::TimeOfUse : Shape::TieredTimeOfUse;
        Tariff t = with_version(random_version(rng, shape));
        if (rng(0, 2) == 0) {  // a second version some time in the range
            TariffVersion next = random_version(rng, shape);
            next.effective_from_ms = at(2026, 9, 20) + rng(0, 120 * kDay);
            t.versions.push_back(next);
        }
        REQUIRE(validate(t).has_value());
        // One interval of `duration` ms and `consumption` micro-units at a steady
        // rate; the parts are its readings at random instants in between.
        const std::int64_t start = at(2026, 9, 20) + rng(0, 100 * kDay);
        const std::int64_t duration = rng(1, 5 * kDay);
        const std::int64_t consumption = rng(0, 2'000'000'000);
        const std::int64_t base = rng(0, 1'000'000'000);
        auto reg = [&](std::int64_t offset) {
            return base +
                   static_cast<std::int64_t>(static_cast<Wide>(consumption) * offset / duration);
        };
        RatingState initial;
        initial.remainder_pico_yuan = rng(0, kPicoYuanPerFen - 1);
        initial.cycle_key = cycle_start_key(t.versions[0].cycle, cal.local(start).date_key());
        initial.cycle_consumed_micro = rng(0, 1'000'000'000);

        RatingState whole_state = initial;
        const Charge whole = rate_ok(t, reading(reg(0), reg(duration), 6, start, start + duration),
                                     whole_state, cal);
        check_charge_invariants(t, whole, initial, whole_state);

        std::set<std::int64_t> cuts{0, duration};
        const std::int64_t pieces = rng(0, 100);
        for (std::int64_t i = 0; i < pieces && duration > 1; ++i) cuts.insert(rng(1, duration - 1));
        const std::vector<std::int64_t> s(cuts.begin(), cuts.end());
        RatingState parts_state = initial;
        std::int64_t parts_fen = 0;
        for (std::size_t i = 0; i + 1 < s.size(); ++i) {
            const RatingState before = parts_state;
            const Charge c =
                rate_ok(t, reading(reg(s[i]), reg(s[i + 1]), 6, start + s[i], start + s[i + 1]),
                        parts_state, cal);
            check_charge_invariants(t, c, before, parts_state);
            parts_fen += c.fen;
        }
        INFO("round " << round << " pieces " << s.size() - 1);
        CHECK(std::abs(parts_fen - whole.fen) <= 1);
        CHECK(parts_state.cycle_key == whole_state.cycle_key);
        // Tier fill agrees to the micro-unit rounding of the parts' split.
        CHECK(std::abs(parts_state.cycle_consumed_micro - whole_state.cycle_consumed_micro) <=
              static_cast<std::int64_t>(s.size()));
    }
}

TEST_CASE("property: period registers keep consumption and exact amounts") {
    Rng rng(99);
    const Calendar& cal = shanghai();
    for (int round = 0; round < 1000; ++round) {
        const Tariff t = with_version(random_version(rng, Shape::TieredTimeOfUse));
        const std::int64_t start = at(2026, 11, 1) + rng(0, 30 * kDay);
        const std::int64_t duration = rng(0, 3 * kDay);
        const std::int64_t consumption = rng(0, 100'000'000);
        Interval iv = reading(0, consumption, 6, start, start + duration);
        std::array<std::int64_t, kPeriodCount> periods{};
        for (auto& p : periods) p = rng(0, 2) == 0 ? 0 : rng(0, 40'000'000);
        iv.period_micro = periods;
        RatingState initial;
        initial.remainder_pico_yuan = rng(0, kPicoYuanPerFen - 1);
        RatingState state = initial;
        const Charge c = rate_ok(t, iv, state, cal);
        INFO("round " << round);
        check_charge_invariants(t, c, initial, state);
    }
}
