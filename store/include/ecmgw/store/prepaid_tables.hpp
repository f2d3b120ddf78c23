// The prepaid tables of the store: accounts and their ledger, each meter's rating
// and supply state, events, per-day usage, applied command ids and the core's
// small named values. Writes happen inside a Transaction the caller began on the
// same Store (they are part of its cause's transaction); reads may happen any time.
//
// The database enforces the money invariants itself (schema v2): a ledger row
// moves its account's balance in the same statement, states the balance it leads
// to, is never changed or deleted, and its cause (idem_key) is UNIQUE.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ecmgw/common/decimal.hpp"
#include "ecmgw/common/expected.hpp"
#include "ecmgw/store/store.hpp"

namespace ecmgw::store {

struct AccountRow {
    std::string id;
    std::int64_t balance_fen = 0;
    bool emergency_active = false;
    std::optional<bool> keep_power;  // set by a command; nullopt = as configured
    int warn_level = 0;              // thresholds at or below which the balance was last seen
};

struct LedgerEntry {
    std::int64_t id = 0;  // assigned by the store
    std::string account;
    std::int64_t ts_ms = 0;
    std::string kind;                    // opening, charge, fixed_charge, topup, adjustment, refund
    std::int64_t amount_fen = 0;         // signed: charges and refunds are negative
    std::int64_t balance_after_fen = 0;  // assigned by the store
    std::string idem_key;
    std::string meter;   // charges: the meter; else empty
    std::string detail;  // JSON object text
};

struct MeterRatingRow {
    std::string meter;
    std::string account;
    Decimal last_register;
    std::int64_t last_ts_ms = 0;
    std::int64_t remainder_pico = 0;
    int cycle_key = 0;
    std::int64_t cycle_consumed_micro = 0;
    std::optional<Decimal> suspect_register;
    std::int64_t suspect_ts_ms = 0;
    std::string last_periods;  // "sharp,peak,flat,valley" registers (micro-units) at last_ts_ms,
                               // or empty
};

struct SupplyRow {
    std::string meter;
    std::string desired = "on";  // "on" | "off"
    std::string reason;
    std::int64_t desired_ms = 0;
    std::string force = "none";  // "none" | "on" | "off"
    std::string observed = "unknown";
    std::int64_t observed_ms = 0;
    std::int64_t last_switch_ms = 0;
    int switch_day = 0;
    int switches_today = 0;
    int attempts = 0;  // switch commands sent since desired last changed
};

struct EventRow {
    std::int64_t id = 0;
    std::int64_t ts_ms = 0;
    std::string type;
    std::string meter;
    std::string account;
    std::string body;  // JSON object text
};

struct DailyUsageRow {
    std::string meter;
    int day = 0;         // yyyymmdd, local
    std::string period;  // sharp, peak, flat, valley
    std::int64_t consumption_micro = 0;
    std::int64_t cost_pico = 0;
};

namespace detail {
struct PrepaidStatements;
}

class PrepaidTables {
  public:
    // Prepares the statements on `store`'s connection; `store` must outlive this.
    static Expected<std::unique_ptr<PrepaidTables>> attach(Store& store);
    ~PrepaidTables();

    // --- writes: inside a transaction begun on the same Store
    // Creates the account (balance 0) unless it exists; true when created.
    Expected<bool> ensure_account(std::string_view id, std::int64_t now_ms);
    // Appends the row unless its idem_key was applied before: the stored row
    // (with id and balance_after_fen), or nullopt for a repeat.
    Expected<std::optional<LedgerEntry>> append_ledger(const LedgerEntry& entry);
    Result set_account_flags(std::string_view id, bool emergency_active,
                             std::optional<bool> keep_power, int warn_level);
    Result put_meter_rating(const MeterRatingRow& row);
    Result put_supply(const SupplyRow& row);
    Expected<std::int64_t> append_event(const EventRow& event);
    Result add_daily_usage(const DailyUsageRow& row);
    // Records a command id; false when it was seen before (a replay).
    Expected<bool> record_command(std::string_view id, std::string_view type, bool ok,
                                  std::int64_t received_ms);
    Result set_value(std::string_view name, std::int64_t value);

    // --- reads
    Expected<std::optional<AccountRow>> account(std::string_view id);
    Expected<std::vector<AccountRow>> accounts();
    Expected<std::optional<MeterRatingRow>> meter_rating(std::string_view meter);
    Expected<std::optional<SupplyRow>> supply(std::string_view meter);
    Expected<std::vector<SupplyRow>> supplies();
    // Ledger rows of `account` (all accounts when empty) with id > after_id, oldest first.
    Expected<std::vector<LedgerEntry>> ledger(std::string_view account, std::int64_t after_id,
                                              std::size_t limit = 100000);
    // What the ledger says the balance is: its rows plus the charges folded by retention.
    Expected<std::int64_t> ledger_sum(std::string_view account);
    Expected<std::vector<EventRow>> events(std::int64_t after_id, std::size_t limit = 1000);
    Expected<std::vector<DailyUsageRow>> daily_usage(std::string_view meter, int day);
    Expected<bool> command_seen(std::string_view id);
    Expected<std::optional<std::int64_t>> value(std::string_view name);

  private:
    PrepaidTables(Store& store, std::unique_ptr<detail::PrepaidStatements> stmts);
    Result in_transaction(std::string_view op) const;
    Store& store_;
    std::unique_ptr<detail::PrepaidStatements> stmts_;
};

}  // namespace ecmgw::store
