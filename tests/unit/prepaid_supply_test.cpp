#include <doctest/doctest.h>

#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "ecmgw/prepaid/calendar.hpp"
#include "ecmgw/prepaid/supply_policy.hpp"

using namespace ecmgw::prepaid;

namespace doctest {
template <>
struct StringMaker<SupplyDecision> {
    static String convert(const SupplyDecision& d) {
        return String("{") + supply_name(d.desired) + ", " + d.reason.c_str() + "}";
    }
};
template <>
struct StringMaker<WarningCrossing> {
    static String convert(const WarningCrossing& c) {
        return String("{") + std::to_string(c.threshold_fen).c_str() +
               (c.downward ? ", down}" : ", up}");
    }
};
template <>
struct StringMaker<std::vector<WarningCrossing>> {
    static String convert(const std::vector<WarningCrossing>& v) {
        String out = "[";
        for (std::size_t i = 0; i < v.size(); ++i) {
            if (i != 0) out += ", ";
            out += StringMaker<WarningCrossing>::convert(v[i]);
        }
        return out + "]";
    }
};
}  // namespace doctest

namespace {

constexpr std::int64_t kShanghai = 8 * 3600;

// Days since 1970-01-01 of a proleptic Gregorian date.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// The UTC instant (ms) of a Shanghai local time.
std::int64_t sh(int y, int mo, int d, int h, int mi, int s = 0, int ms = 0) {
    const std::int64_t local_s =
        days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 + h * 3600 +
        mi * 60 + s;
    return (local_s - kShanghai) * 1000 + ms;
}

Calendar shanghai(std::set<int> holidays = {}, std::set<int> workdays = {}) {
    return Calendar::fixed_offset(kShanghai, std::move(holidays), std::move(workdays));
}

SupplyDecision decide(const CreditPolicy& p, std::int64_t balance, Supply current,
                      bool friendly = false, Force force = Force::None, bool keep = false,
                      bool emergency = false) {
    SupplyInputs in;
    in.balance_fen = balance;
    in.current = current;
    in.friendly_now = friendly;
    in.force = force;
    in.keep_power = keep;
    in.emergency_active = emergency;
    return decide_supply(p, in);
}

const SupplyDecision kOnCredit{Supply::On, "credit"};
const SupplyDecision kOffExhausted{Supply::Off, "credit_exhausted"};
const SupplyDecision kOffAwaiting{Supply::Off, "awaiting_restore"};
const SupplyDecision kOnFriendly{Supply::On, "friendly_period"};
const SupplyDecision kForcedOn{Supply::On, "forced_on"};
const SupplyDecision kForcedOff{Supply::Off, "forced_off"};
const SupplyDecision kKeepPower{Supply::On, "keep_power"};

using Verdict = SwitchPermission::Verdict;

}  // namespace

TEST_CASE("the test clock helper puts 2026-11-24 on a Tuesday in Shanghai") {
    const Calendar cal = shanghai();
    const LocalTime t = cal.local(sh(2026, 11, 24, 0, 0));
    CHECK(t.date_key() == 20261124);
    CHECK(t.weekday == 1);
    CHECK(t.ms_of_day == 0);
    CHECK(sh(2026, 11, 24, 8, 0) == days_from_civil(2026, 11, 24) * 86'400'000);
}

TEST_CASE("supply names and available credit") {
    CHECK(std::string(supply_name(Supply::On)) == "on");
    CHECK(std::string(supply_name(Supply::Off)) == "off");

    CreditPolicy p;
    p.credit_limit_fen = 500;
    p.emergency_credit_fen = 1000;
    CHECK(available_fen(p, 200, false) == 700);
    CHECK(available_fen(p, 200, true) == 1700);
    CHECK(available_fen(p, -800, false) == -300);
    CHECK(available_fen(p, -800, true) == 700);
}

TEST_CASE("decide_supply precedence: forced, then keep-power, then credit") {
    CreditPolicy p;
    p.restore_above_fen = 1000;

    struct Row {
        Force force;
        bool keep;
        std::int64_t balance;
        Supply current;
        bool friendly;
        SupplyDecision expected;
    };
    const std::vector<Row> rows = {
        // force off beats everything, even plenty of credit and keep-power
        {Force::Off, true, 100'000, Supply::On, true, kForcedOff},
        {Force::Off, false, 100'000, Supply::On, false, kForcedOff},
        {Force::Off, false, -100, Supply::Off, false, kForcedOff},
        // force on beats no credit and a cut meter
        {Force::On, false, -100'000, Supply::Off, false, kForcedOn},
        {Force::On, true, -100'000, Supply::On, false, kForcedOn},
        // keep-power beats credit, whatever the current state
        {Force::None, true, -100'000, Supply::Off, false, kKeepPower},
        {Force::None, true, -100'000, Supply::On, false, kKeepPower},
        {Force::None, true, 100'000, Supply::On, false, kKeepPower},
        // credit
        {Force::None, false, 1, Supply::On, false, kOnCredit},
        {Force::None, false, 0, Supply::On, false, kOffExhausted},
        {Force::None, false, 0, Supply::On, true, kOnFriendly},
        {Force::None, false, 1001, Supply::Off, false, kOnCredit},
        {Force::None, false, 1000, Supply::Off, false, kOffAwaiting},
        {Force::None, false, 0, Supply::Off, false, kOffExhausted},
    };
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const Row& r = rows[i];
        CAPTURE(i);
        CHECK(decide(p, r.balance, r.current, r.friendly, r.force, r.keep) == r.expected);
    }
}

TEST_CASE("hysteresis: cut at zero available, restore only above restore_above_fen") {
    CreditPolicy p;
    p.restore_above_fen = 1000;

    // A supplied meter stays on while any credit remains, and is cut at zero.
    CHECK(decide(p, 1, Supply::On) == kOnCredit);
    CHECK(decide(p, 0, Supply::On) == kOffExhausted);
    CHECK(decide(p, -50, Supply::On) == kOffExhausted);

    // A cut meter stays cut until strictly above the threshold.
    CHECK(decide(p, -50, Supply::Off) == kOffExhausted);
    CHECK(decide(p, 0, Supply::Off) == kOffExhausted);
    CHECK(decide(p, 1, Supply::Off) == kOffAwaiting);
    CHECK(decide(p, 1000, Supply::Off) == kOffAwaiting);
    CHECK(decide(p, 1001, Supply::Off) == kOnCredit);

    // Between the two the state decides: no chatter for a small top-up.
    CHECK(decide(p, 500, Supply::On) == kOnCredit);
    CHECK(decide(p, 500, Supply::Off) == kOffAwaiting);

    SUBCASE("with no threshold a cut meter is restored by any positive credit") {
        p.restore_above_fen = 0;
        CHECK(decide(p, 0, Supply::Off) == kOffExhausted);
        CHECK(decide(p, 1, Supply::Off) == kOnCredit);
    }
    SUBCASE("the credit limit and active emergency credit count as available") {
        p.restore_above_fen = 0;
        p.credit_limit_fen = 300;
        p.emergency_credit_fen = 2000;
        CHECK(decide(p, -299, Supply::On) == kOnCredit);
        CHECK(decide(p, -300, Supply::On) == kOffExhausted);
        CHECK(decide(p, -300, Supply::On, false, Force::None, false, true) == kOnCredit);
        CHECK(decide(p, -2300, Supply::On, false, Force::None, false, true) == kOffExhausted);
        // Turning emergency credit on restores a meter cut at -1000.
        CHECK(decide(p, -1000, Supply::Off) == kOffExhausted);
        CHECK(decide(p, -1000, Supply::Off, false, Force::None, false, true) == kOnCredit);
    }
}

TEST_CASE("friendly periods defer a cut and never a restore") {
    CreditPolicy p;
    p.restore_above_fen = 1000;

    // Exhausted during a friendly period: stays on, with the reason.
    CHECK(decide(p, 0, Supply::On, true) == kOnFriendly);
    CHECK(decide(p, -5000, Supply::On, true) == kOnFriendly);
    // The period ends: the deferred cut happens.
    CHECK(decide(p, -5000, Supply::On, false) == kOffExhausted);

    // A meter already cut is not restored by a friendly period starting.
    CHECK(decide(p, 0, Supply::Off, true) == kOffExhausted);
    CHECK(decide(p, 500, Supply::Off, true) == kOffAwaiting);
    // ...nor is its restore delayed by one.
    CHECK(decide(p, 1001, Supply::Off, true) == kOnCredit);
    // With credit a friendly period changes nothing.
    CHECK(decide(p, 1, Supply::On, true) == kOnCredit);
}

TEST_CASE("lifting a force hands the meter back to the credit rules") {
    CreditPolicy p;
    p.restore_above_fen = 1000;

    // Lifting a force-off: the meter is Off, so it is restored only with credit
    // above the threshold; an account with no credit stays cut.
    CHECK(decide(p, 0, Supply::Off, false, Force::Off) == kForcedOff);
    CHECK(decide(p, 0, Supply::Off) == kOffExhausted);
    CHECK(decide(p, 500, Supply::Off) == kOffAwaiting);
    CHECK(decide(p, 5000, Supply::Off) == kOnCredit);
    // Even in a friendly period, lifting a cut with no credit keeps it cut.
    CHECK(decide(p, 0, Supply::Off, true) == kOffExhausted);

    // Lifting a force-on (or keep-power) on an exhausted account cuts it at once,
    // unless a friendly period defers the cut.
    CHECK(decide(p, -10, Supply::On, false, Force::On) == kForcedOn);
    CHECK(decide(p, -10, Supply::On) == kOffExhausted);
    CHECK(decide(p, -10, Supply::On, true) == kOnFriendly);
}

TEST_CASE("a nightly friendly range 22:00-06:00 wraps midnight") {
    const Calendar cal = shanghai();
    FriendlyPeriods f;
    f.daily = {{22 * 60, 6 * 60}};

    CHECK_FALSE(in_friendly_period(f, cal, sh(2026, 11, 24, 21, 59)));
    CHECK_FALSE(in_friendly_period(f, cal, sh(2026, 11, 24, 21, 59, 59, 999)));
    CHECK(in_friendly_period(f, cal, sh(2026, 11, 24, 22, 0)));
    CHECK(in_friendly_period(f, cal, sh(2026, 11, 24, 23, 59, 59, 999)));
    CHECK(in_friendly_period(f, cal, sh(2026, 11, 25, 0, 0)));
    CHECK(in_friendly_period(f, cal, sh(2026, 11, 25, 5, 59)));
    CHECK(in_friendly_period(f, cal, sh(2026, 11, 25, 5, 59, 59, 999)));
    CHECK_FALSE(in_friendly_period(f, cal, sh(2026, 11, 25, 6, 0)));
    CHECK_FALSE(in_friendly_period(f, cal, sh(2026, 11, 25, 12, 0)));
}

TEST_CASE("daily friendly ranges: plain, several, and empty") {
    const Calendar cal = shanghai();
    FriendlyPeriods f;

    SUBCASE("no ranges and no days: never friendly") {
        CHECK_FALSE(in_friendly_period(f, cal, sh(2026, 11, 24, 3, 0)));
        CHECK_FALSE(in_friendly_period(f, cal, sh(2026, 11, 28, 3, 0)));  // Saturday
    }
    SUBCASE("a range within the day is [start, end)") {
        f.daily = {{12 * 60, 14 * 60}};
        CHECK_FALSE(in_friendly_period(f, cal, sh(2026, 11, 24, 11, 59)));
        CHECK(in_friendly_period(f, cal, sh(2026, 11, 24, 12, 0)));
        CHECK(in_friendly_period(f, cal, sh(2026, 11, 24, 13, 59)));
        CHECK_FALSE(in_friendly_period(f, cal, sh(2026, 11, 24, 14, 0)));
    }
    SUBCASE("any of several ranges") {
        f.daily = {{0, 6 * 60}, {12 * 60, 13 * 60}};
        CHECK(in_friendly_period(f, cal, sh(2026, 11, 24, 0, 0)));
        CHECK(in_friendly_period(f, cal, sh(2026, 11, 24, 12, 30)));
        CHECK_FALSE(in_friendly_period(f, cal, sh(2026, 11, 24, 6, 0)));
    }
    SUBCASE("a whole day is 00:00-24:00") {
        f.daily = {{0, 1440}};
        CHECK(in_friendly_period(f, cal, sh(2026, 11, 24, 0, 0)));
        CHECK(in_friendly_period(f, cal, sh(2026, 11, 24, 23, 59)));
    }
    SUBCASE("start == end is an empty range, not the whole day") {
        f.daily = {{8 * 60, 8 * 60}};
        CHECK_FALSE(in_friendly_period(f, cal, sh(2026, 11, 24, 7, 59)));
        CHECK_FALSE(in_friendly_period(f, cal, sh(2026, 11, 24, 8, 0)));
        CHECK_FALSE(in_friendly_period(f, cal, sh(2026, 11, 24, 20, 0)));
    }
}

TEST_CASE("weekends are friendly unless the calendar makes them workdays") {
    FriendlyPeriods f;
    f.weekends = true;

    const Calendar plain = shanghai();
    CHECK_FALSE(in_friendly_period(f, plain, sh(2026, 11, 27, 23, 59)));  // Friday
    CHECK(in_friendly_period(f, plain, sh(2026, 11, 28, 0, 0)));          // Saturday
    CHECK(in_friendly_period(f, plain, sh(2026, 11, 28, 12, 0)));
    CHECK(in_friendly_period(f, plain, sh(2026, 11, 29, 23, 59)));       // Sunday
    CHECK_FALSE(in_friendly_period(f, plain, sh(2026, 11, 30, 0, 0)));   // Monday
    CHECK_FALSE(in_friendly_period(f, plain, sh(2026, 11, 24, 12, 0)));  // Tuesday

    // Saturday 2026-11-28 made a working day (调休): not friendly; Sunday still is.
    const Calendar adjusted = shanghai({}, {20261128});
    CHECK_FALSE(in_friendly_period(f, adjusted, sh(2026, 11, 28, 12, 0)));
    CHECK(in_friendly_period(f, adjusted, sh(2026, 11, 29, 12, 0)));

    // With weekends off a Saturday is an ordinary day.
    f.weekends = false;
    CHECK_FALSE(in_friendly_period(f, plain, sh(2026, 11, 28, 12, 0)));

    // The local day decides, not the UTC day: Saturday 07:00 in Shanghai is still
    // Friday in UTC, and Monday 07:00 is still Sunday in UTC.
    f.weekends = true;
    CHECK(in_friendly_period(f, plain, sh(2026, 11, 28, 7, 0)));
    CHECK_FALSE(in_friendly_period(f, plain, sh(2026, 11, 30, 7, 0)));
}

TEST_CASE("holidays are friendly when enabled") {
    // Tuesday 2026-11-24 and Saturday 2026-11-28 are holidays.
    const Calendar cal = shanghai({20261124, 20261128});
    FriendlyPeriods f;

    SUBCASE("holidays on") {
        f.holidays = true;
        CHECK(in_friendly_period(f, cal, sh(2026, 11, 24, 0, 0)));
        CHECK(in_friendly_period(f, cal, sh(2026, 11, 24, 23, 59)));
        CHECK_FALSE(in_friendly_period(f, cal, sh(2026, 11, 23, 23, 59)));
        CHECK_FALSE(in_friendly_period(f, cal, sh(2026, 11, 25, 0, 0)));
        CHECK(in_friendly_period(f, cal, sh(2026, 11, 28, 12, 0)));
        // Holidays alone do not make ordinary weekends friendly.
        CHECK_FALSE(in_friendly_period(f, cal, sh(2026, 11, 29, 12, 0)));
    }
    SUBCASE("holidays off: a weekday holiday is an ordinary day") {
        f.weekends = true;
        CHECK_FALSE(in_friendly_period(f, cal, sh(2026, 11, 24, 12, 0)));
        // A holiday falling on a Saturday is still a weekend day.
        CHECK(in_friendly_period(f, cal, sh(2026, 11, 28, 12, 0)));
    }
    SUBCASE("a holiday wins over a workday override") {
        f.holidays = true;
        const Calendar both = shanghai({20261128}, {20261128});
        CHECK(in_friendly_period(f, both, sh(2026, 11, 28, 12, 0)));
    }
}

TEST_CASE("warning_level counts thresholds at or below, in any configured order") {
    CreditPolicy p;
    p.warn_fen = {500, 2000, 1000};  // not sorted on purpose
    CHECK(warning_level(p, 5000) == 0);
    CHECK(warning_level(p, 2001) == 0);
    CHECK(warning_level(p, 2000) == 1);  // equal counts as at-or-below
    CHECK(warning_level(p, 1001) == 1);
    CHECK(warning_level(p, 1000) == 2);
    CHECK(warning_level(p, 500) == 3);
    CHECK(warning_level(p, -100) == 3);

    p.warn_fen = {};
    CHECK(warning_level(p, -100) == 0);
}

TEST_CASE("warning crossings: once per threshold, both directions, in crossing order") {
    CreditPolicy p;
    p.warn_fen = {500, 2000};  // unsorted input

    SUBCASE("falling through one threshold fires once") {
        CHECK(warning_crossings(p, 2100, 1900) == std::vector<WarningCrossing>{{2000, true}});
        // Further falls that stay between thresholds fire nothing.
        CHECK(warning_crossings(p, 1900, 1800).empty());
        CHECK(warning_crossings(p, 1800, 501).empty());
    }
    SUBCASE("landing exactly on a threshold counts as reaching it") {
        CHECK(warning_crossings(p, 2001, 2000) == std::vector<WarningCrossing>{{2000, true}});
        CHECK(warning_crossings(p, 2000, 1999).empty());
        CHECK(warning_crossings(p, 2000, 2001) == std::vector<WarningCrossing>{{2000, false}});
        CHECK(warning_crossings(p, 1999, 2000).empty());
    }
    SUBCASE("rising above a threshold fires once") {
        CHECK(warning_crossings(p, 400, 600) == std::vector<WarningCrossing>{{500, false}});
        CHECK(warning_crossings(p, 600, 700).empty());
    }
    SUBCASE("a big jump crosses both, in the order crossed") {
        CHECK(warning_crossings(p, 3000, 0) ==
              std::vector<WarningCrossing>{{2000, true}, {500, true}});
        CHECK(warning_crossings(p, 0, 3000) ==
              std::vector<WarningCrossing>{{500, false}, {2000, false}});
        CHECK(warning_crossings(p, 2000, 500) == std::vector<WarningCrossing>{{500, true}});
        CHECK(warning_crossings(p, 2001, 500) ==
              std::vector<WarningCrossing>{{2000, true}, {500, true}});
    }
    SUBCASE("no change, no crossing") {
        CHECK(warning_crossings(p, 2000, 2000).empty());
        CHECK(warning_crossings(p, 500, 500).empty());
    }
    SUBCASE("a threshold listed twice warns once") {
        p.warn_fen = {500, 500};
        CHECK(warning_crossings(p, 600, 400) == std::vector<WarningCrossing>{{500, true}});
        CHECK(warning_level(p, 400) == 1);
    }
    SUBCASE("negative thresholds work like any other") {
        p.warn_fen = {0, -500};
        CHECK(warning_crossings(p, 100, -600) ==
              std::vector<WarningCrossing>{{0, true}, {-500, true}});
    }
}

TEST_CASE("relay protection: minimum interval between switches") {
    const Calendar cal = shanghai();
    const RelayProtection prot{60, 10};
    const std::int64_t t0 = sh(2026, 11, 24, 12, 0);

    SwitchHistory never;
    CHECK(may_switch(prot, never, cal, t0).verdict == Verdict::Allowed);

    const SwitchHistory h = record_switch(never, cal, t0);
    CHECK(h.last_switch_ms == t0);
    CHECK(h.day_key == 20261124);
    CHECK(h.switches_today == 1);

    const SwitchPermission soon = may_switch(prot, h, cal, t0 + 59'999);
    CHECK(soon.verdict == Verdict::WaitUntil);
    CHECK(soon.wait_until_ms == t0 + 60'000);
    CHECK(may_switch(prot, h, cal, t0).verdict == Verdict::WaitUntil);
    CHECK(may_switch(prot, h, cal, t0 + 60'000).verdict == Verdict::Allowed);

    // A zero interval only leaves the daily limit.
    CHECK(may_switch({0, 10}, h, cal, t0).verdict == Verdict::Allowed);
}

TEST_CASE("relay protection: daily maximum, reset at local midnight not UTC midnight") {
    const Calendar cal = shanghai();
    const RelayProtection prot{60, 3};

    SwitchHistory h;
    h = record_switch(h, cal, sh(2026, 11, 24, 20, 0));
    h = record_switch(h, cal, sh(2026, 11, 24, 21, 0));
    CHECK(h.switches_today == 2);
    CHECK(may_switch(prot, h, cal, sh(2026, 11, 24, 22, 0)).verdict == Verdict::Allowed);
    h = record_switch(h, cal, sh(2026, 11, 24, 22, 0));
    CHECK(h.switches_today == 3);

    // Limit reached for the rest of the local day, whatever the interval.
    CHECK(may_switch(prot, h, cal, sh(2026, 11, 24, 23, 0)).verdict == Verdict::DailyLimitReached);
    CHECK(may_switch(prot, h, cal, sh(2026, 11, 24, 23, 59, 59, 999)).verdict ==
          Verdict::DailyLimitReached);
    // Local midnight (16:00 UTC, still 2026-11-24 in UTC) starts a new day.
    const std::int64_t midnight = sh(2026, 11, 25, 0, 0);
    CHECK(cal.local(midnight).date_key() == 20261125);
    CHECK(may_switch(prot, h, cal, midnight).verdict == Verdict::Allowed);
    h = record_switch(h, cal, midnight);
    CHECK(h.day_key == 20261125);
    CHECK(h.switches_today == 1);

    h = record_switch(h, cal, sh(2026, 11, 25, 1, 0));
    h = record_switch(h, cal, sh(2026, 11, 25, 2, 0));
    CHECK(h.switches_today == 3);
    // UTC midnight (08:00 in Shanghai) does not reset the count.
    CHECK(may_switch(prot, h, cal, sh(2026, 11, 25, 8, 0)).verdict == Verdict::DailyLimitReached);
    CHECK(may_switch(prot, h, cal, sh(2026, 11, 25, 23, 59)).verdict == Verdict::DailyLimitReached);
    CHECK(may_switch(prot, h, cal, sh(2026, 11, 26, 0, 0)).verdict == Verdict::Allowed);

    SUBCASE("the daily limit wins over the interval") {
        SwitchHistory full = record_switch(h, cal, sh(2026, 11, 25, 2, 0, 30));
        CHECK(may_switch(prot, full, cal, sh(2026, 11, 25, 2, 0, 40)).verdict ==
              Verdict::DailyLimitReached);
    }
    SUBCASE("a day skipped entirely also resets") {
        CHECK(may_switch(prot, h, cal, sh(2026, 12, 1, 12, 0)).verdict == Verdict::Allowed);
        CHECK(record_switch(h, cal, sh(2026, 12, 1, 12, 0)).switches_today == 1);
    }
}

TEST_CASE("relay protection: a clock that went backwards does not block") {
    const Calendar cal = shanghai();
    const RelayProtection prot{60, 3};
    const std::int64_t last = sh(2026, 11, 24, 12, 0);
    SwitchHistory h = record_switch({}, cal, last);

    // An hour before the last switch: the elapsed time is unknown, so allowed
    // (rather than waiting an hour plus the interval).
    CHECK(may_switch(prot, h, cal, last - 3'600'000).verdict == Verdict::Allowed);
    CHECK(may_switch(prot, h, cal, last - 1).verdict == Verdict::Allowed);

    // The interval restarts from the switch made at the earlier time.
    h = record_switch(h, cal, last - 3'600'000);
    CHECK(h.switches_today == 2);
    const SwitchPermission p = may_switch(prot, h, cal, last - 3'600'000 + 30'000);
    CHECK(p.verdict == Verdict::WaitUntil);
    CHECK(p.wait_until_ms == last - 3'600'000 + 60'000);

    // The daily limit still protects the relay.
    h = record_switch(h, cal, last - 3'000'000);
    CHECK(h.switches_today == 3);
    CHECK(may_switch(prot, h, cal, last - 7'200'000).verdict == Verdict::DailyLimitReached);
    CHECK(may_switch(prot, h, cal, last + 3'600'000).verdict == Verdict::DailyLimitReached);

    // Backwards across local midnight: the earlier day has its own count.
    CHECK(may_switch(prot, h, cal, sh(2026, 11, 23, 23, 0)).verdict == Verdict::Allowed);
}

TEST_CASE("supply verification: a meter that moved since last seen was switched outside") {
    const auto on = Supply::On;
    const auto off = Supply::Off;
    const std::optional<Supply> unknown;
    // Seen as it was last seen, and as it should be: recorded, nothing else.
    CHECK(judge_supply_check(off, off, off) == SupplyCheck{true, false, false});
    CHECK(judge_supply_check(on, on, on) == SupplyCheck{true, false, false});
    // A cut meter closed behind the gateway's back: reported and cut again.
    CHECK(judge_supply_check(off, off, on) == SupplyCheck{true, true, true});
    // A supplied meter tripped by hand or by its own logic: reported and restored.
    CHECK(judge_supply_check(on, on, off) == SupplyCheck{true, true, true});
    // Moved to the state it should be in (a restore waiting for relay protection,
    // done by hand): reported, nothing to switch.
    CHECK(judge_supply_check(on, off, on) == SupplyCheck{true, true, false});
    // Still not as it should be, as last seen (a switch waiting for relay protection,
    // a stuck meter): no news, the reconciler is already after it.
    CHECK(judge_supply_check(off, on, on) == SupplyCheck{true, false, false});
    // Its state was unknown: learnt, not a change the gateway can tell.
    CHECK(judge_supply_check(off, unknown, on) == SupplyCheck{true, false, false});
    CHECK(judge_supply_check(on, unknown, on) == SupplyCheck{true, false, false});
    // An unknown reading (a valve moving) is not a disagreement: nothing at all.
    CHECK(judge_supply_check(on, on, unknown) == SupplyCheck{});
    CHECK(judge_supply_check(off, on, unknown) == SupplyCheck{});
}

TEST_CASE("property: random balance walks cross each threshold consistently") {
    std::mt19937_64 rng(20261124);
    std::uniform_int_distribution<int> n_thresholds(0, 4);
    std::uniform_int_distribution<int> threshold_step(-5, 25);  // x100 fen
    std::uniform_int_distribution<int> step_kind(0, 9);
    std::uniform_int_distribution<int> small_step(-4, 4);    // x50 fen
    std::uniform_int_distribution<int> big_step(-60, 60);    // x50 fen
    std::uniform_int_distribution<int> start_step(-20, 60);  // x50 fen

    for (int walk = 0; walk < 300; ++walk) {
        CreditPolicy p;
        const int n = n_thresholds(rng);
        for (int i = 0; i < n; ++i) p.warn_fen.push_back(threshold_step(rng) * 100);
        const std::set<std::int64_t> distinct(p.warn_fen.begin(), p.warn_fen.end());

        const std::int64_t start = start_step(rng) * 50;
        std::int64_t balance = start;
        std::map<std::int64_t, int> net;              // downward minus upward
        std::map<std::int64_t, bool> last_direction;  // of the previous crossing
        for (int step = 0; step < 80; ++step) {
            const int kind = step_kind(rng);
            const std::int64_t delta =
                kind == 0 ? 0 : (kind < 7 ? small_step(rng) : big_step(rng)) * 50;
            const std::int64_t next = balance + delta;
            const auto crossings = warning_crossings(p, balance, next);

            CAPTURE(walk);
            CAPTURE(step);
            CAPTURE(balance);
            CAPTURE(next);
            // The level moves by exactly the crossings.
            int downs = 0;
            int ups = 0;
            for (const auto& c : crossings) (c.downward ? downs : ups) += 1;
            CHECK(warning_level(p, next) - warning_level(p, balance) == downs - ups);
            // All in one direction, in crossing order, each distinct threshold once.
            for (std::size_t i = 0; i < crossings.size(); ++i) {
                CHECK(distinct.count(crossings[i].threshold_fen) == 1);
                CHECK(crossings[i].downward == (next < balance));
                if (i > 0) {
                    if (next < balance) {
                        CHECK(crossings[i - 1].threshold_fen > crossings[i].threshold_fen);
                    } else {
                        CHECK(crossings[i - 1].threshold_fen < crossings[i].threshold_fen);
                    }
                }
            }
            for (const auto& c : crossings) {
                // A threshold's crossings alternate: a warning fires once per crossing.
                const auto prev = last_direction.find(c.threshold_fen);
                if (prev != last_direction.end()) CHECK(prev->second != c.downward);
                last_direction[c.threshold_fen] = c.downward;
                net[c.threshold_fen] += c.downward ? 1 : -1;
            }
            balance = next;
        }
        for (std::int64_t t : distinct) {
            const int expected = (balance <= t ? 1 : 0) - (start <= t ? 1 : 0);
            CAPTURE(walk);
            CAPTURE(t);
            CHECK(net[t] == expected);
            if (start > t) {
                CHECK((net[t] == 0 || net[t] == 1));
            } else {
                CHECK((net[t] == 0 || net[t] == -1));
            }
        }
    }
}
