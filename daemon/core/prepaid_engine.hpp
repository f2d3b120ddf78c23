// The prepaid engine: the core's money and supply decisions, applied inside the
// transaction of their cause (design.md, data flow 2 and 5).
//   - a billing reading (a meter's energy or volume register) is checked, rated
//     with its tariff, and charged to its account as a ledger row;
//   - a reading that cannot be trusted is quarantined: an event, no charge, no cut;
//   - every balance change raises the warning events it crosses and re-decides
//     the supply of the account's meters; the desired state is stored, and the
//     SupplyReconciler makes the meters follow it;
//   - commands (top-up, adjustment, refund, keep-power, emergency credit, forced
//     supply) change the same state the same way.
// Every ledger row and event is also an outbox record, in the same transaction.
// The engine holds no money state of its own: the store is the truth, so a
// rolled-back transaction leaves nothing behind.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/clock_jump.hpp"
#include "ecmgw/config/config.hpp"
#include "ecmgw/prepaid/calendar.hpp"
#include "ecmgw/prepaid/rating.hpp"
#include "ecmgw/prepaid/supply_policy.hpp"
#include "ecmgw/store/prepaid_tables.hpp"
#include "ecmgw/store/store.hpp"

namespace ecmgw::core {

// What the engine knows of one charged meter, from the config.
struct ChargedMeter {
    const config::MeterConfig* meter = nullptr;
    const config::AccountConfig* account = nullptr;
    const prepaid::Tariff* tariff = nullptr;
    std::string quantity;  // the register that is charged: import_energy_kwh, energy_kwh, volume_m3
    std::int64_t max_micro_per_hour = 0;
};

// The register a meter is charged by: volume_m3 for water; for electricity
// import_energy_kwh when the meter reads it, else energy_kwh.
std::string billing_quantity(const config::Config& cfg, const config::MeterConfig& meter);

// A meter's own time-of-use registers (sharp, peak, flat, valley) read together
// with its billing register; a missing one is nullopt.
using PeriodRegisters = std::array<std::optional<Decimal>, prepaid::kPeriodCount>;

// The quantity names of the billing register's time-of-use registers:
// energy_kwh → energy_t1_kwh … energy_t4_kwh (DL/T 645: 尖, 峰, 平, 谷); none for water.
std::array<std::string, prepaid::kPeriodCount> period_quantities(const std::string& billing);

// A rejected command or operation: the reason goes into the acknowledgement.
struct Refusal {
    std::string reason;
};

class PrepaidEngine {
  public:
    // `cfg` and `calendar` must outlive the engine.
    PrepaidEngine(const config::Config& cfg, const prepaid::Calendar& calendar, store::Store& store,
                  store::PrepaidTables& tables);

    // Once at start-up, in a transaction: creates the configured accounts with their
    // opening balance, the supply rows of switchable meters, and decides them.
    Result start(store::Transaction& tx, std::int64_t now_ms);

    // In the transaction that stores `reading`. `periods`: the meter's time-of-use
    // registers read at the same moment, if it has them; the interval's split among
    // periods then follows their movement instead of the clock.
    Result on_reading(store::Transaction& tx, const store::Reading& reading,
                      const PeriodRegisters* periods = nullptr);

    // Periodically, in its own transaction: supply decisions that depend on time
    // (a friendly period ending), standing charges that fell due, daily summaries.
    Result tick(store::Transaction& tx, std::int64_t now_ms);

    // Money commands. A refusal changes nothing (the caller rolls back or commits
    // only the acknowledgement).
    Expected<store::LedgerEntry, Refusal> topup(store::Transaction& tx, const std::string& account,
                                                std::int64_t amount_fen, const std::string& txn,
                                                std::int64_t now_ms);
    Expected<store::LedgerEntry, Refusal> refund(store::Transaction& tx, const std::string& account,
                                                 std::int64_t amount_fen, const std::string& txn,
                                                 std::int64_t now_ms);
    Expected<store::LedgerEntry, Refusal> adjust(store::Transaction& tx, const std::string& account,
                                                 std::int64_t amount_fen, const std::string& reason,
                                                 const std::string& command_id,
                                                 std::int64_t now_ms);
    // `on` empty: back to the account's configured keep_power.
    Expected<void, Refusal> set_keep_power(store::Transaction& tx, const std::string& account,
                                           std::optional<bool> on, std::int64_t now_ms);
    Expected<void, Refusal> grant_emergency_credit(store::Transaction& tx,
                                                   const std::string& account, std::int64_t now_ms);
    // Who: "cloud", "cli:<user>", for the event.
    Expected<void, Refusal> force_supply(store::Transaction& tx, const std::string& meter,
                                         prepaid::Force force, const std::string& who,
                                         std::int64_t now_ms);

    // What the reconciler saw when it switched `meter` (or failed to).
    Result observe_switch(store::Transaction& tx, const std::string& meter, bool ok,
                          std::optional<prepaid::Supply> observed, const std::string& error,
                          std::int64_t now_ms);
    // What the periodic supply verification read from `meter` between switches
    // (nullopt: unknown). Records it; a meter that moved since it was last seen is
    // an event (supply_changed_outside), and one that moved away from its desired
    // state starts a fresh round of attempts. Says what it judged.
    Expected<prepaid::SupplyCheck> observe_supply(store::Transaction& tx, const std::string& meter,
                                                  std::optional<prepaid::Supply> seen,
                                                  std::int64_t now_ms);
    // The reconciler gives up on a meter for now: an event asks for a person.
    Result report_stuck(store::Transaction& tx, const std::string& meter, const std::string& why,
                        std::int64_t now_ms);

    // Raises an event: a row in events and an outbox record.
    Result event(store::Transaction& tx, const std::string& type, const std::string& meter,
                 const std::string& account, nlohmann::json details, std::int64_t ts_ms);

    // Meters whose desired supply changed since the last call (to reconcile now).
    // The gateway's wall clock jumped (ClockJumpWatch): an event, and a reading
    // interval that spans the jump is quarantined, never charged.
    Result clock_jumped(store::Transaction& tx, const ClockJump& jump);
    // Takes over the jumps `previous` saw (a reload replaces the engine).
    void adopt_clock_jumps(const PrepaidEngine& previous) { jumps_ = previous.jumps_; }

    std::vector<std::string> take_changed_supply();

    const ChargedMeter* charged(const std::string& meter) const;
    bool switchable(const std::string& meter) const;
    const prepaid::Calendar& calendar() const { return calendar_; }
    const config::Config& config() const { return cfg_; }
    store::PrepaidTables& tables() { return tables_; }

  private:
    Result charge_interval(store::Transaction& tx, const ChargedMeter& cm,
                           store::MeterRatingRow& row, const Decimal& from_register,
                           std::int64_t from_ms, const store::Reading& reading,
                           const PeriodRegisters* periods);
    Result quarantine(store::Transaction& tx, const ChargedMeter& cm, const store::Reading& r,
                      const std::string& reason, nlohmann::json details);
    Expected<std::optional<store::LedgerEntry>> post(store::Transaction& tx,
                                                     store::LedgerEntry entry);
    Result balance_changed(store::Transaction& tx, const std::string& account,
                           std::int64_t before_fen, std::int64_t after_fen, std::int64_t ts_ms);
    Result decide_account(store::Transaction& tx, const std::string& account, std::int64_t now_ms);
    Result decide_meter(store::Transaction& tx, const std::string& meter,
                        const store::AccountRow* account, std::int64_t now_ms);
    Result fixed_charges(store::Transaction& tx, std::int64_t now_ms);
    Expected<store::LedgerEntry, Refusal> credit(store::Transaction& tx, const std::string& account,
                                                 const std::string& kind, std::int64_t amount_fen,
                                                 const std::string& idem_key, nlohmann::json detail,
                                                 std::int64_t now_ms);
    const config::AccountConfig* account_config(const std::string& id) const;

    const config::Config& cfg_;
    const prepaid::Calendar& calendar_;
    store::Store& store_;
    store::PrepaidTables& tables_;
    std::map<std::string, ChargedMeter> charged_;
    std::map<std::string, std::vector<std::string>> meters_of_account_;  // switchable ones
    std::set<std::string> switchable_;
    std::set<std::string> changed_supply_;
    std::vector<ClockJump> jumps_;  // since this engine started, the latest few
};

}  // namespace ecmgw::core
