// Local time for rating: which local day and minute a UTC instant is, and what
// kind of day that is (weekday, weekend, public holiday, or a weekend made a
// working day, 调休). Pure: the conversion from UTC to local time is passed in, so
// tests use fixed offsets and the daemon uses the system's time zone database.
#pragma once

#include <cstdint>
#include <functional>
#include <set>

#include "ecmgw/prepaid/tariff.hpp"

namespace ecmgw::prepaid {

struct LocalTime {
    int year = 1970;
    int month = 1;               // 1..12
    int day = 1;                 // 1..31
    std::int64_t ms_of_day = 0;  // 0..86'399'999 since local midnight
    int weekday = 3;             // 0 = Monday .. 6 = Sunday

    int minute_of_day() const { return static_cast<int>(ms_of_day / 60'000); }

    int date_key() const { return year * 10000 + month * 100 + day; }  // yyyymmdd
};

class Calendar {
  public:
    using ToLocal = std::function<LocalTime(std::int64_t utc_ms)>;

    // `holidays` and `workdays` are yyyymmdd date keys. A workday is a Saturday or
    // Sunday that counts as a weekday (调休); a holiday wins over everything.
    Calendar(ToLocal to_local, std::set<int> holidays = {}, std::set<int> workdays = {});
    // A calendar at a fixed offset from UTC (Asia/Shanghai is +8 h all year).
    static Calendar fixed_offset(std::int64_t offset_s, std::set<int> holidays = {},
                                 std::set<int> workdays = {});

    LocalTime local(std::int64_t utc_ms) const;
    DayKind day_kind(const LocalTime& t) const;
    bool is_holiday(int date_key) const { return holidays_.count(date_key) != 0; }
    // The UTC instant of the local midnight that starts the day containing `utc_ms`,
    // and of the next one.
    std::int64_t day_start_ms(std::int64_t utc_ms) const;
    std::int64_t next_day_start_ms(std::int64_t utc_ms) const;

  private:
    ToLocal to_local_;
    std::set<int> holidays_;
    std::set<int> workdays_;
};

// The date key (yyyymmdd) of the start of the billing cycle containing local date
// `date_key`.
int cycle_start_key(const BillingCycle& cycle, int date_key);

// Proleptic Gregorian date arithmetic, no libc: days since 1970-01-01 (negative
// before), and the date of such a day as a LocalTime at its midnight (weekday set).
std::int64_t days_from_civil(int year, int month, int day);
LocalTime civil_from_days(std::int64_t days);
// The number of days of `month` (1..12) in `year`.
int days_in_month(int year, int month);

}  // namespace ecmgw::prepaid
