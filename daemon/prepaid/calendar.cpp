#include "ecmgw/prepaid/calendar.hpp"

#include <array>

#include <utility>

namespace ecmgw::prepaid {
namespace {

constexpr std::int64_t kMsPerDay = 86'400'000;
// How many days beyond the first two the searches below look for a date change.
constexpr int kSearchDays = 8;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    std::int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return q;
}

// The local date of `utc_ms` as a comparable key. Dates only move forward with
// time, except where a zone turns its clocks back across midnight (rare); the
// searches below assume they move forward and find some crossing otherwise.
int date_of(const Calendar& c, std::int64_t utc_ms) { return c.local(utc_ms).date_key(); }

// The smallest instant in (lo, hi] whose local date is beyond `key`, given that
// the date at lo is not and the date at hi is.
std::int64_t first_after(const Calendar& c, int key, std::int64_t lo, std::int64_t hi) {
    while (hi - lo > 1) {
        const std::int64_t mid = lo + (hi - lo) / 2;
        if (date_of(c, mid) > key) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    return hi;
}

}  // namespace

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian).
std::int64_t days_from_civil(int year, int month, int day) {
    const std::int64_t y = static_cast<std::int64_t>(year) - (month <= 2 ? 1 : 0);
    const std::int64_t era = floor_div(y, 400);
    const std::int64_t yoe = y - era * 400;                          // [0, 399]
    const std::int64_t mp = (month + 9) % 12;                        // March = 0
    const std::int64_t doy = (153 * mp + 2) / 5 + day - 1;           // [0, 365]
    const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;  // [0, 146096]
    return era * 146'097 + doe - 719'468;
}

int days_in_month(int year, int month) {
    static constexpr std::array<int, 12> kDays{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : kDays[static_cast<std::size_t>(month - 1)];
}

LocalTime civil_from_days(std::int64_t days) {
    const std::int64_t z = days + 719'468;
    const std::int64_t era = floor_div(z, 146'097);
    const std::int64_t doe = z - era * 146'097;  // [0, 146096]
    const std::int64_t yoe = (doe - doe / 1460 + doe / 36'524 - doe / 146'096) / 365;  // [0, 399]
    const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                  // [0, 365]
    const std::int64_t mp = (5 * doy + 2) / 153;                                       // [0, 11]
    LocalTime t;
    t.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
    t.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
    t.year = static_cast<int>(yoe + era * 400 + (t.month <= 2 ? 1 : 0));
    t.ms_of_day = 0;
    // 1970-01-01 was a Thursday (3 with Monday = 0).
    t.weekday = static_cast<int>(days + 3 - floor_div(days + 3, 7) * 7);
    return t;
}

Calendar::Calendar(ToLocal to_local, std::set<int> holidays, std::set<int> workdays)
    : to_local_(std::move(to_local)),
      holidays_(std::move(holidays)),
      workdays_(std::move(workdays)) {}

Calendar Calendar::fixed_offset(std::int64_t offset_s, std::set<int> holidays,
                                std::set<int> workdays) {
    const std::int64_t offset_ms = offset_s * 1000;
    return Calendar(
        [offset_ms](std::int64_t utc_ms) {
            const std::int64_t local_ms = utc_ms + offset_ms;
            const std::int64_t days = floor_div(local_ms, kMsPerDay);
            LocalTime t = civil_from_days(days);
            t.ms_of_day = local_ms - days * kMsPerDay;
            return t;
        },
        std::move(holidays), std::move(workdays));
}

LocalTime Calendar::local(std::int64_t utc_ms) const { return to_local_(utc_ms); }

DayKind Calendar::day_kind(const LocalTime& t) const {
    const int key = t.date_key();
    if (holidays_.count(key) != 0) return DayKind::Holiday;
    if ((t.weekday == 5 || t.weekday == 6) && workdays_.count(key) == 0) return DayKind::Weekend;
    return DayKind::Weekday;
}

// With an offset that does not change during the day, the day starts ms_of_day
// before `utc_ms`; that is checked (the instant is the date's first one: its
// ms_of_day is 0 and the instant before is an earlier date). Otherwise (a daylight
// saving change that day, or a midnight that does not exist) the first instant of
// the date is found by bisection over the two days before, so the "midnight" is
// then the first instant the local clock shows that date.
std::int64_t Calendar::day_start_ms(std::int64_t utc_ms) const {
    const LocalTime t = local(utc_ms);
    const int key = t.date_key();
    const std::int64_t guess = utc_ms - t.ms_of_day;
    if (guess <= utc_ms) {
        const LocalTime g = local(guess);
        if (g.ms_of_day == 0 && g.date_key() == key && date_of(*this, guess - 1) < key) {
            return guess;
        }
    }
    std::int64_t lo = utc_ms - 2 * kMsPerDay;
    for (int i = 0; date_of(*this, lo) >= key; ++i) {
        if (i == kSearchDays) return guess;  // a local clock that never shows an earlier date
        lo -= kMsPerDay;
    }
    // Date keys are integers: "later than key - 1" is "key or later".
    return first_after(*this, key - 1, lo, utc_ms);
}

// The first instant after `utc_ms` with a later local date: one day after the day
// start when that instant checks out (see day_start_ms), else by bisection over
// the two days after.
std::int64_t Calendar::next_day_start_ms(std::int64_t utc_ms) const {
    const LocalTime t = local(utc_ms);
    const int key = t.date_key();
    const std::int64_t guess = utc_ms - t.ms_of_day + kMsPerDay;
    if (guess > utc_ms) {
        const LocalTime g = local(guess);
        if (g.ms_of_day == 0 && g.date_key() > key && date_of(*this, guess - 1) == key) {
            return guess;
        }
    }
    std::int64_t hi = utc_ms + 2 * kMsPerDay;
    for (int i = 0; date_of(*this, hi) <= key; ++i) {
        // A local clock that never shows a later date: still strictly after utc_ms.
        if (i == kSearchDays) return guess > utc_ms ? guess : utc_ms + 1;
        hi += kMsPerDay;
    }
    return first_after(*this, key, utc_ms, hi);
}

int cycle_start_key(const BillingCycle& cycle, int date_key) {
    int year = date_key / 10000;
    int month = date_key / 100 % 100;
    const int day = date_key % 100;
    if (cycle.length == BillingCycle::Length::Yearly) {
        const int start = cycle.start_month * 100 + cycle.start_day;
        if (month * 100 + day < start) --year;
        return year * 10000 + start;
    }
    if (day < cycle.start_day) {
        if (--month == 0) {
            month = 12;
            --year;
        }
    }
    return year * 10000 + month * 100 + cycle.start_day;
}

}  // namespace ecmgw::prepaid
