#include <doctest/doctest.h>

#include <cstdint>
#include <ctime>
#include <random>
#include <set>

#include "ecmgw/prepaid/calendar.hpp"
#include "ecmgw/prepaid/tariff.hpp"

using namespace ecmgw::prepaid;

namespace {

constexpr std::int64_t kHour = 3'600'000;
constexpr std::int64_t kDay = 24 * kHour;
constexpr std::int64_t kShanghai = 8 * 3600;

// UTC ms of a UTC wall-clock time.
std::int64_t utc(int y, int mo, int d, int h = 0, int mi = 0) {
    return days_from_civil(y, mo, d) * kDay + h * kHour + mi * 60'000;
}

// UTC ms of a wall-clock time at +08:00.
std::int64_t cst(int y, int mo, int d, int h = 0, int mi = 0) {
    return utc(y, mo, d, h, mi) - 8 * kHour;
}

// A zone at +1 h with daylight saving (+2 h) from `dst_from` to `dst_until`
// (UTC ms), like Europe/Berlin.
Calendar::ToLocal dst_zone(std::int64_t dst_from, std::int64_t dst_until) {
    return [dst_from, dst_until](std::int64_t utc_ms) {
        const std::int64_t offset = (utc_ms >= dst_from && utc_ms < dst_until) ? 2 * kHour : kHour;
        const std::int64_t local = utc_ms + offset;
        std::int64_t days = local / kDay;
        if (local % kDay < 0) --days;
        LocalTime t = civil_from_days(days);
        t.ms_of_day = local - days * kDay;
        return t;
    };
}

BillingCycle monthly(int start_day) {
    BillingCycle c;
    c.length = BillingCycle::Length::Monthly;
    c.start_day = start_day;
    return c;
}

BillingCycle yearly(int start_month, int start_day) {
    BillingCycle c;
    c.length = BillingCycle::Length::Yearly;
    c.start_month = start_month;
    c.start_day = start_day;
    return c;
}

}  // namespace

TEST_CASE("fixed +8 h offset gives the Shanghai date, time and weekday") {
    const Calendar cal = Calendar::fixed_offset(kShanghai);
    // 2026-11-24 is a Tuesday; its midnight at +8 is 2026-11-23 16:00 UTC.
    const LocalTime midnight = cal.local(utc(2026, 11, 23, 16));
    CHECK(midnight.date_key() == 20261124);
    CHECK(midnight.ms_of_day == 0);
    CHECK(midnight.weekday == 1);
    const LocalTime last = cal.local(utc(2026, 11, 24, 16) - 1);
    CHECK(last.date_key() == 20261124);
    CHECK(last.ms_of_day == kDay - 1);
    CHECK(last.minute_of_day() == 1439);
    const LocalTime noon = cal.local(cst(2026, 11, 28, 12, 30));
    CHECK(noon.date_key() == 20261128);
    CHECK(noon.weekday == 5);  // Saturday
    CHECK(noon.minute_of_day() == 12 * 60 + 30);
}

TEST_CASE("fixed offset handles the epoch and instants before it") {
    const Calendar shanghai = Calendar::fixed_offset(kShanghai);
    const LocalTime epoch = shanghai.local(0);
    CHECK(epoch.date_key() == 19700101);
    CHECK(epoch.ms_of_day == 8 * kHour);
    CHECK(epoch.weekday == 3);  // Thursday
    const Calendar utc_cal = Calendar::fixed_offset(0);
    const LocalTime before = utc_cal.local(-1);
    CHECK(before.date_key() == 19691231);
    CHECK(before.ms_of_day == kDay - 1);
    CHECK(before.weekday == 2);  // Wednesday
    const Calendar west = Calendar::fixed_offset(-5 * 3600);
    CHECK(west.local(0).date_key() == 19691231);
    CHECK(west.local(0).ms_of_day == 19 * kHour);
}

TEST_CASE("civil day arithmetic handles leap years and centuries") {
    CHECK(days_from_civil(1970, 1, 1) == 0);
    CHECK(days_from_civil(2026, 11, 24) == 20781);
    CHECK(days_from_civil(2024, 3, 1) - days_from_civil(2024, 2, 28) == 2);
    CHECK(days_from_civil(2100, 3, 1) - days_from_civil(2100, 2, 28) == 1);
    CHECK(days_from_civil(2000, 3, 1) - days_from_civil(2000, 2, 28) == 2);
    CHECK(civil_from_days(days_from_civil(2024, 2, 29)).date_key() == 20240229);
    CHECK(civil_from_days(-1).date_key() == 19691231);
    CHECK(civil_from_days(days_from_civil(1600, 1, 1)).date_key() == 16000101);
}

TEST_CASE("civil day arithmetic agrees with gmtime for random days") {
    std::mt19937_64 rng(7);
    std::uniform_int_distribution<std::int64_t> day(days_from_civil(1900, 1, 1),
                                                    days_from_civil(2200, 12, 31));
    for (int i = 0; i < 5000; ++i) {
        const std::int64_t d = day(rng);
        const std::time_t seconds = static_cast<std::time_t>(d * 86'400);
        std::tm tm{};
        REQUIRE(gmtime_r(&seconds, &tm) != nullptr);
        const LocalTime t = civil_from_days(d);
        INFO("day " << d);
        CHECK(t.year == tm.tm_year + 1900);
        CHECK(t.month == tm.tm_mon + 1);
        CHECK(t.day == tm.tm_mday);
        CHECK(t.weekday == (tm.tm_wday + 6) % 7);
        CHECK(days_from_civil(t.year, t.month, t.day) == d);
    }
}

TEST_CASE("saturday and sunday are weekend days, other days weekdays") {
    const Calendar cal = Calendar::fixed_offset(kShanghai);
    CHECK(cal.day_kind(cal.local(cst(2026, 11, 24, 9))) == DayKind::Weekday);
    CHECK(cal.day_kind(cal.local(cst(2026, 11, 27, 23, 59))) == DayKind::Weekday);  // Friday
    CHECK(cal.day_kind(cal.local(cst(2026, 11, 28))) == DayKind::Weekend);
    CHECK(cal.day_kind(cal.local(cst(2026, 11, 29, 23, 59))) == DayKind::Weekend);
    CHECK(cal.day_kind(cal.local(cst(2026, 11, 30))) == DayKind::Weekday);
}

TEST_CASE("holidays win over weekdays, weekends and workdays") {
    const Calendar cal =
        Calendar::fixed_offset(kShanghai, {20261001, 20261003, 20261010}, {20261010, 20261011});
    CHECK(cal.is_holiday(20261001));
    CHECK_FALSE(cal.is_holiday(20261002));
    CHECK(cal.day_kind(cal.local(cst(2026, 10, 1, 12))) == DayKind::Holiday);   // Thursday
    CHECK(cal.day_kind(cal.local(cst(2026, 10, 3, 12))) == DayKind::Holiday);   // Saturday
    CHECK(cal.day_kind(cal.local(cst(2026, 10, 10, 12))) == DayKind::Holiday);  // both lists
}

TEST_CASE("a weekend day listed as a workday is a weekday") {
    const Calendar cal = Calendar::fixed_offset(kShanghai, {}, {20261011});
    CHECK(cal.day_kind(cal.local(cst(2026, 10, 10, 12))) == DayKind::Weekend);  // Saturday
    CHECK(cal.day_kind(cal.local(cst(2026, 10, 11, 12))) == DayKind::Weekday);  // Sunday, worked
    // A workday entry on a weekday changes nothing.
    const Calendar odd = Calendar::fixed_offset(kShanghai, {}, {20261124});
    CHECK(odd.day_kind(odd.local(cst(2026, 11, 24, 12))) == DayKind::Weekday);
}

TEST_CASE("day start and next day start at a fixed offset") {
    const Calendar cal = Calendar::fixed_offset(kShanghai);
    const std::int64_t midnight = cst(2026, 11, 24);
    CHECK(cal.day_start_ms(midnight + 13 * kHour) == midnight);
    CHECK(cal.next_day_start_ms(midnight + 13 * kHour) == midnight + kDay);
    CHECK(cal.day_start_ms(midnight) == midnight);
    CHECK(cal.next_day_start_ms(midnight) == midnight + kDay);
    CHECK(cal.day_start_ms(midnight - 1) == midnight - kDay);
    CHECK(cal.next_day_start_ms(midnight - 1) == midnight);
    const Calendar utc_cal = Calendar::fixed_offset(0);
    CHECK(utc_cal.day_start_ms(-1) == -kDay);
    CHECK(utc_cal.next_day_start_ms(-1) == 0);
}

TEST_CASE("day start on daylight saving days finds the real local midnight") {
    // Clocks go forward at 2026-03-29 01:00 UTC (02:00 -> 03:00 local) and back at
    // 2026-10-25 01:00 UTC (03:00 -> 02:00 local).
    const Calendar cal(dst_zone(utc(2026, 3, 29, 1), utc(2026, 10, 25, 1)));
    // The 23-hour day: starts 2026-03-28 23:00 UTC (+1), ends 2026-03-29 22:00 UTC (+2).
    const std::int64_t noon = utc(2026, 3, 29, 10);
    CHECK(cal.local(noon).date_key() == 20260329);
    CHECK(cal.day_start_ms(noon) == utc(2026, 3, 28, 23));
    CHECK(cal.next_day_start_ms(noon) == utc(2026, 3, 29, 22));
    CHECK(cal.next_day_start_ms(utc(2026, 3, 28, 23)) - utc(2026, 3, 28, 23) == 23 * kHour);
    // The 25-hour day: starts 2026-10-24 22:00 UTC (+2), ends 2026-10-25 23:00 UTC (+1).
    const std::int64_t evening = utc(2026, 10, 25, 20);
    CHECK(cal.day_start_ms(evening) == utc(2026, 10, 24, 22));
    CHECK(cal.next_day_start_ms(evening) == utc(2026, 10, 25, 23));
    CHECK(cal.next_day_start_ms(utc(2026, 10, 25, 0, 30)) == utc(2026, 10, 25, 23));
}

TEST_CASE("a day whose midnight is skipped starts at the first instant of its date") {
    // Clocks go from 00:00 straight to 01:00 local at 2026-03-28 23:00 UTC.
    const Calendar cal(dst_zone(utc(2026, 3, 28, 23), utc(2026, 10, 25, 1)));
    const std::int64_t noon = utc(2026, 3, 29, 10);
    CHECK(cal.day_start_ms(noon) == utc(2026, 3, 28, 23));
    CHECK(cal.local(cal.day_start_ms(noon)).ms_of_day == kHour);
    CHECK(cal.next_day_start_ms(utc(2026, 3, 28, 12)) == utc(2026, 3, 28, 23));
}

TEST_CASE("day start brackets every instant, with and without daylight saving") {
    const Calendar fixed = Calendar::fixed_offset(kShanghai);
    const Calendar dst(dst_zone(utc(2026, 3, 29, 1), utc(2026, 10, 25, 1)));
    std::mt19937_64 rng(11);
    std::uniform_int_distribution<std::int64_t> instant(utc(2026, 1, 1), utc(2027, 1, 1));
    for (const Calendar* cal : {&fixed, &dst}) {
        for (int i = 0; i < 2000; ++i) {
            const std::int64_t t = instant(rng);
            const std::int64_t start = cal->day_start_ms(t);
            const std::int64_t next = cal->next_day_start_ms(t);
            INFO("t " << t);
            CHECK(start <= t);
            CHECK(t < next);
            CHECK(cal->local(start).date_key() == cal->local(t).date_key());
            CHECK(cal->local(start - 1).date_key() < cal->local(t).date_key());
            CHECK(cal->local(next - 1).date_key() == cal->local(t).date_key());
            CHECK(cal->local(next).date_key() > cal->local(t).date_key());
            const std::int64_t length = next - start;
            CHECK((length == kDay || length == kDay - kHour || length == kDay + kHour));
        }
    }
}

TEST_CASE("monthly cycle from the 1st starts on the 1st of the date's month") {
    const BillingCycle c = monthly(1);
    CHECK(cycle_start_key(c, 20260101) == 20260101);
    CHECK(cycle_start_key(c, 20260131) == 20260101);
    CHECK(cycle_start_key(c, 20261224) == 20261201);
}

TEST_CASE("monthly cycle from the 15th starts before or on the date") {
    const BillingCycle c = monthly(15);
    CHECK(cycle_start_key(c, 20260314) == 20260215);
    CHECK(cycle_start_key(c, 20260315) == 20260315);
    CHECK(cycle_start_key(c, 20260331) == 20260315);
    CHECK(cycle_start_key(c, 20260101) == 20251215);  // back across the new year
    CHECK(cycle_start_key(c, 20260114) == 20251215);
    CHECK(cycle_start_key(c, 20260115) == 20260115);
    CHECK(cycle_start_key(monthly(28), 20260301) == 20260228);
}

TEST_CASE("yearly cycle starts on its month and day at or before the date") {
    CHECK(cycle_start_key(yearly(1, 1), 20260101) == 20260101);
    CHECK(cycle_start_key(yearly(1, 1), 20261231) == 20260101);
    CHECK(cycle_start_key(yearly(7, 1), 20260630) == 20250701);
    CHECK(cycle_start_key(yearly(7, 1), 20260701) == 20260701);
    CHECK(cycle_start_key(yearly(10, 15), 20260101) == 20251015);  // crossing the new year
    CHECK(cycle_start_key(yearly(10, 15), 20251231) == 20251015);
    CHECK(cycle_start_key(yearly(10, 15), 20261014) == 20251015);
    CHECK(cycle_start_key(yearly(10, 15), 20261015) == 20261015);
}
