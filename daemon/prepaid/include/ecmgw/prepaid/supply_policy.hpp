// Supply policy: from an account's balance and the meter's flags to whether the
// meter should supply (relay closed / valve open), and the events on the way.
// Pure: the core calls it on every balance change and on a periodic tick, and
// persists what it returns; the reconciler makes the meter follow.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ecmgw/prepaid/calendar.hpp"

namespace ecmgw::prepaid {

struct CreditPolicy {
    // Low-balance warning thresholds (fen), any order in config; kept descending.
    std::vector<std::int64_t> warn_fen = {2000, 500};
    // How far below zero the balance may go before the cut (overdraft), >= 0.
    std::int64_t credit_limit_fen = 0;
    // Extra credit a tenant can ask for once credit is exhausted (a command turns
    // it on; the next top-up that brings the balance back to >= 0 turns it off).
    std::int64_t emergency_credit_fen = 0;
    // A cut meter is restored when the available credit is above this (>= 0):
    // hysteresis, so a 1-fen top-up does not close the relay just to open it again.
    std::int64_t restore_above_fen = 0;
};

// Times at which credit running out does not cut supply (no one loses heat or
// light at night, at weekends or on holidays); the cut waits for the period's end.
struct FriendlyPeriods {
    // Local-day ranges [start, end) in minutes; a range may wrap midnight by
    // giving start > end (22:00-06:00 is {1320, 360}); start == end is empty, the
    // whole day is {0, 1440}.
    struct Range {
        std::int64_t start_minute = 0;
        std::int64_t end_minute = 0;
        friend bool operator==(const Range&, const Range&) = default;
    };
    std::vector<Range> daily;
    bool weekends = false;  // Saturday and Sunday, unless the calendar makes them workdays
    bool holidays = false;  // the calendar's holidays
    friend bool operator==(const FriendlyPeriods&, const FriendlyPeriods&) = default;
};

bool in_friendly_period(const FriendlyPeriods& friendly, const Calendar& calendar,
                        std::int64_t utc_ms);

enum class Supply { On, Off };
const char* supply_name(Supply s);  // "on", "off"

// A cloud or technician override of one meter, above every credit rule.
enum class Force { None, On, Off };

struct SupplyInputs {
    std::int64_t balance_fen = 0;
    bool emergency_active = false;
    bool keep_power = false;  // 保电: the account is never cut for credit
    Force force = Force::None;
    bool friendly_now = false;  // in_friendly_period(...) at this moment
    // What is desired now (the decision keeps a cut meter cut until the restore
    // threshold, and a supplied meter supplied until credit is exhausted).
    Supply current = Supply::On;
};

struct SupplyDecision {
    Supply desired = Supply::On;
    // Why, as a stable word for events and the status display: "credit",
    // "credit_exhausted", "awaiting_restore" (cut, balance not yet above the restore
    // threshold), "friendly_period" (exhausted, cut deferred), "keep_power",
    // "forced_on", "forced_off".
    std::string reason;
    friend bool operator==(const SupplyDecision&, const SupplyDecision&) = default;
};

// Available credit: balance + credit limit + emergency credit when active.
std::int64_t available_fen(const CreditPolicy& policy, std::int64_t balance_fen,
                           bool emergency_active);

// Precedence: forced > keep-power > credit (exhausted when available <= 0; restored
// when available > restore_above_fen), with friendly periods deferring a cut but
// never a restore.
SupplyDecision decide_supply(const CreditPolicy& policy, const SupplyInputs& in);

// How many warning thresholds the balance is at or below (0 = above them all).
int warning_level(const CreditPolicy& policy, std::int64_t balance_fen);

// A crossing of one threshold between two balances, in either direction, one per
// threshold crossed, in the order they were crossed.
struct WarningCrossing {
    std::int64_t threshold_fen = 0;
    bool downward = true;  // true: the balance fell to or below it; false: rose above it
    friend bool operator==(const WarningCrossing&, const WarningCrossing&) = default;
};
std::vector<WarningCrossing> warning_crossings(const CreditPolicy& policy, std::int64_t before_fen,
                                               std::int64_t after_fen);

// Relay protection: switching a contactor wears it, and a tenant hovering at zero
// must not make it chatter. At most one switch per `min_interval_s`, and at most
// `daily_max` per local day; beyond that a person has to look.
struct RelayProtection {
    std::int64_t min_interval_s = 60;
    int daily_max = 10;
};

struct SwitchHistory {
    std::int64_t last_switch_ms = 0;  // 0 = never
    int day_key = 0;                  // local yyyymmdd of switches_today
    int switches_today = 0;
};

struct SwitchPermission {
    enum class Verdict { Allowed, WaitUntil, DailyLimitReached } verdict = Verdict::Allowed;
    std::int64_t wait_until_ms = 0;  // WaitUntil: when it is allowed
};

SwitchPermission may_switch(const RelayProtection& protection, const SwitchHistory& history,
                            const Calendar& calendar, std::int64_t now_ms);
// The history after a switch at `now_ms`.
SwitchHistory record_switch(const SwitchHistory& history, const Calendar& calendar,
                            std::int64_t now_ms);

// Periodic supply verification: a relay or valve state read between the gateway's
// own switches, judged against what the meter should be and what it was last seen
// to be. A meter that moved since it was last seen was switched outside the
// gateway (by hand, by its own logic); when it moved away from its desired state
// the reconciler switches it back, as a fresh round of attempts.
struct SupplyCheck {
    bool record = false;           // store the state seen as the meter's observed state
    bool changed_outside = false;  // it moved since last seen: an event
    bool switch_back = false;      // and it is not what it should be: switch it back
    friend bool operator==(const SupplyCheck&, const SupplyCheck&) = default;
};
// `last_seen`, `seen`: nullopt = unknown (a valve moving, a state the meter could
// not tell). An unknown reading says nothing, so it changes nothing; a meter whose
// state was unknown has not "moved" (the reconciler is already after it).
SupplyCheck judge_supply_check(Supply desired, std::optional<Supply> last_seen,
                               std::optional<Supply> seen);

}  // namespace ecmgw::prepaid
