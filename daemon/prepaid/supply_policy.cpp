#include "ecmgw/prepaid/supply_policy.hpp"

#include <algorithm>
#include <functional>

namespace ecmgw::prepaid {
namespace {

// [start, end) in minutes of the local day; start > end wraps midnight; start == end
// is empty (a zero-length range, not the whole day: "00:00-24:00" is how a whole day
// is written).
bool in_range(const FriendlyPeriods::Range& r, std::int64_t minute) {
    if (r.start_minute < r.end_minute) return minute >= r.start_minute && minute < r.end_minute;
    if (r.start_minute > r.end_minute) return minute >= r.start_minute || minute < r.end_minute;
    return false;
}

bool is_saturday_or_sunday(const LocalTime& t) { return t.weekday == 5 || t.weekday == 6; }

// The thresholds, highest first, each once (a threshold listed twice warns once).
std::vector<std::int64_t> descending_thresholds(const CreditPolicy& policy) {
    std::vector<std::int64_t> t = policy.warn_fen;
    std::sort(t.begin(), t.end(), std::greater<>());
    t.erase(std::unique(t.begin(), t.end()), t.end());
    return t;
}

}  // namespace

bool in_friendly_period(const FriendlyPeriods& friendly, const Calendar& calendar,
                        std::int64_t utc_ms) {
    const LocalTime local = calendar.local(utc_ms);
    const DayKind kind = calendar.day_kind(local);
    if (friendly.holidays && kind == DayKind::Holiday) return true;
    // A weekend is friendly unless the calendar made it a working day (调休). A holiday
    // that falls on a Saturday or Sunday is still a weekend day, so with weekends on
    // and holidays off it stays friendly.
    if (friendly.weekends) {
        if (kind == DayKind::Weekend) return true;
        if (kind == DayKind::Holiday && is_saturday_or_sunday(local)) return true;
    }
    const std::int64_t minute = local.minute_of_day();
    return std::any_of(friendly.daily.begin(), friendly.daily.end(),
                       [minute](const FriendlyPeriods::Range& r) { return in_range(r, minute); });
}

const char* supply_name(Supply s) {
    switch (s) {
        case Supply::On:
            return "on";
        case Supply::Off:
            return "off";
    }
    return "?";
}

std::int64_t available_fen(const CreditPolicy& policy, std::int64_t balance_fen,
                           bool emergency_active) {
    return balance_fen + policy.credit_limit_fen +
           (emergency_active ? policy.emergency_credit_fen : 0);
}

// `current` is what was desired before, whatever caused it. A meter that is Off
// because a force-off was just lifted is therefore judged like any cut meter: it
// is restored only when the available credit is above the restore threshold, so
// lifting a manual cut on an account with no credit keeps it cut (and the reason
// says why). Likewise a lifted force-on or keep-power leaves an On meter on until
// credit is exhausted, which the same call decides at once.
SupplyDecision decide_supply(const CreditPolicy& policy, const SupplyInputs& in) {
    if (in.force == Force::Off) return {Supply::Off, "forced_off"};
    if (in.force == Force::On) return {Supply::On, "forced_on"};
    if (in.keep_power) return {Supply::On, "keep_power"};

    const std::int64_t available = available_fen(policy, in.balance_fen, in.emergency_active);
    if (in.current == Supply::On) {
        if (available > 0) return {Supply::On, "credit"};
        // Exhausted: a friendly period defers the cut to its end.
        if (in.friendly_now) return {Supply::On, "friendly_period"};
        return {Supply::Off, "credit_exhausted"};
    }
    // Cut: restore only above the threshold (hysteresis); a restore is never deferred.
    if (available > policy.restore_above_fen) return {Supply::On, "credit"};
    return {Supply::Off, available <= 0 ? "credit_exhausted" : "awaiting_restore"};
}

int warning_level(const CreditPolicy& policy, std::int64_t balance_fen) {
    const std::vector<std::int64_t> thresholds = descending_thresholds(policy);
    return static_cast<int>(
        std::count_if(thresholds.begin(), thresholds.end(),
                      [balance_fen](std::int64_t t) { return balance_fen <= t; }));
}

std::vector<WarningCrossing> warning_crossings(const CreditPolicy& policy, std::int64_t before_fen,
                                               std::int64_t after_fen) {
    const std::vector<std::int64_t> thresholds = descending_thresholds(policy);
    std::vector<WarningCrossing> out;
    if (after_fen < before_fen) {
        // Falling: the highest threshold is crossed first.
        for (std::int64_t t : thresholds) {
            if (before_fen > t && t >= after_fen) out.push_back({t, true});
        }
    } else if (after_fen > before_fen) {
        // Rising: the lowest threshold is crossed first.
        for (auto it = thresholds.rbegin(); it != thresholds.rend(); ++it) {
            if (before_fen <= *it && *it < after_fen) out.push_back({*it, false});
        }
    }
    return out;
}

// A clock that went backwards (now before the last switch) leaves the time since
// that switch unknown; waiting for `last + min_interval` could mean waiting as long
// as the clock jumped, so the interval is not applied and the switch is allowed.
// The daily limit still applies (by the local day of `now`), and record_switch then
// restarts the interval from `now`, so the relay cannot chatter.
SwitchPermission may_switch(const RelayProtection& protection, const SwitchHistory& history,
                            const Calendar& calendar, std::int64_t now_ms) {
    const int today = calendar.local(now_ms).date_key();
    const int switches_today = history.day_key == today ? history.switches_today : 0;
    if (switches_today >= protection.daily_max) {
        return {SwitchPermission::Verdict::DailyLimitReached, 0};
    }
    if (history.last_switch_ms != 0 && now_ms >= history.last_switch_ms) {
        const std::int64_t allowed_at = history.last_switch_ms + protection.min_interval_s * 1000;
        if (now_ms < allowed_at) return {SwitchPermission::Verdict::WaitUntil, allowed_at};
    }
    return {SwitchPermission::Verdict::Allowed, 0};
}

SwitchHistory record_switch(const SwitchHistory& history, const Calendar& calendar,
                            std::int64_t now_ms) {
    const int today = calendar.local(now_ms).date_key();
    SwitchHistory next;
    next.last_switch_ms = now_ms;
    next.day_key = today;
    next.switches_today = history.day_key == today ? history.switches_today + 1 : 1;
    return next;
}

SupplyCheck judge_supply_check(Supply desired, std::optional<Supply> last_seen,
                               std::optional<Supply> seen) {
    SupplyCheck check;
    if (!seen) return check;
    check.record = true;
    check.changed_outside = last_seen.has_value() && *last_seen != *seen;
    check.switch_back = check.changed_outside && *seen != desired;
    return check;
}

}  // namespace ecmgw::prepaid
