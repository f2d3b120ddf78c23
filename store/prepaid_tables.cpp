#include "ecmgw/store/prepaid_tables.hpp"

#include <sqlite3.h>

#include <array>
#include <limits>

#include "statement.hpp"

namespace ecmgw::store {

namespace detail {

enum class P : std::size_t {
    EnsureAccount,
    AppendLedger,
    SetAccountFlags,
    PutMeterRating,
    PutSupply,
    AppendEvent,
    AddDailyUsage,
    RecordCommand,
    SetValue,
    Account,
    Accounts,
    MeterRating,
    Supply,
    Supplies,
    LedgerOfAccount,
    LedgerAll,
    LedgerSum,
    Events,
    DailyUsage,
    CommandSeen,
    Value,
    LedgerBalanceAfter,
    Count_,
};

constexpr std::array<const char*, static_cast<std::size_t>(P::Count_)> kSql = {
    "INSERT INTO accounts (id, created_ms) VALUES (?1, ?2) ON CONFLICT (id) DO NOTHING",
    // The balance the row leads to is computed here, under the transaction's write
    // lock, and checked again by the ledger_states_its_balance trigger. A cause
    // applied before inserts nothing (ON CONFLICT DO NOTHING). No RETURNING: SQLite
    // gathers its rows in a temporary table, which costs more than reading the one
    // new row back by its id (LedgerBalanceAfter).
    "INSERT INTO ledger (account, ts_ms, kind, amount_fen, balance_after_fen, idem_key, meter,"
    " detail) SELECT ?1, ?2, ?3, ?4, balance_fen + ?4, ?5, ?6, ?7 FROM accounts WHERE id = ?1"
    " ON CONFLICT (idem_key) DO NOTHING",
    "UPDATE accounts SET emergency_active = ?2, keep_power = ?3, warn_level = ?4 WHERE id = ?1",
    "INSERT INTO meter_rating (meter, account, last_register, last_ts_ms, remainder_pico,"
    " cycle_key, cycle_consumed_micro, suspect_register, suspect_ts_ms, last_periods)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (meter) DO UPDATE SET"
    " account = excluded.account, last_register = excluded.last_register,"
    " last_ts_ms = excluded.last_ts_ms, remainder_pico = excluded.remainder_pico,"
    " cycle_key = excluded.cycle_key, cycle_consumed_micro = excluded.cycle_consumed_micro,"
    " suspect_register = excluded.suspect_register, suspect_ts_ms = excluded.suspect_ts_ms,"
    " last_periods = excluded.last_periods",
    "INSERT INTO supply (meter, desired, reason, desired_ms, force, observed, observed_ms,"
    " last_switch_ms, switch_day, switches_today, attempts)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT (meter) DO UPDATE SET"
    " desired = excluded.desired, reason = excluded.reason, desired_ms = excluded.desired_ms,"
    " force = excluded.force, observed = excluded.observed, observed_ms = excluded.observed_ms,"
    " last_switch_ms = excluded.last_switch_ms, switch_day = excluded.switch_day,"
    " switches_today = excluded.switches_today, attempts = excluded.attempts",
    "INSERT INTO events (ts_ms, type, meter, account, body) VALUES (?1, ?2, ?3, ?4, ?5)",
    "INSERT INTO daily_usage (meter, day, period, consumption_micro, cost_pico)"
    " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (meter, day, period) DO UPDATE SET"
    " consumption_micro = consumption_micro + excluded.consumption_micro,"
    " cost_pico = cost_pico + excluded.cost_pico",
    "INSERT INTO applied_commands (id, received_ms, type, ok) VALUES (?1, ?2, ?3, ?4)"
    " ON CONFLICT (id) DO NOTHING",
    "INSERT INTO core_state (name, value) VALUES (?1, ?2)"
    " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    "SELECT id, balance_fen, emergency_active, keep_power, warn_level FROM accounts"
    " WHERE id = ?1",
    "SELECT id, balance_fen, emergency_active, keep_power, warn_level FROM accounts ORDER BY id",
    "SELECT meter, account, last_register, last_ts_ms, remainder_pico, cycle_key,"
    " cycle_consumed_micro, suspect_register, suspect_ts_ms, coalesce(last_periods, '')"
    " FROM meter_rating WHERE meter = ?1",
    "SELECT meter, desired, reason, desired_ms, force, observed, observed_ms, last_switch_ms,"
    " switch_day, switches_today, attempts FROM supply WHERE meter = ?1",
    "SELECT meter, desired, reason, desired_ms, force, observed, observed_ms, last_switch_ms,"
    " switch_day, switches_today, attempts FROM supply ORDER BY meter",
    "SELECT id, account, ts_ms, kind, amount_fen, balance_after_fen, idem_key,"
    " coalesce(meter, ''), detail FROM ledger WHERE account = ?1 AND id > ?2 ORDER BY id"
    " LIMIT ?3",
    "SELECT id, account, ts_ms, kind, amount_fen, balance_after_fen, idem_key,"
    " coalesce(meter, ''), detail FROM ledger WHERE id > ?1 ORDER BY id LIMIT ?2",
    // Charge rows past retention are folded into ledger_folded (schema v5).
    "SELECT coalesce((SELECT amount_fen FROM ledger_folded WHERE account = ?1), 0)"
    " + coalesce(sum(amount_fen), 0) FROM ledger WHERE account = ?1",
    "SELECT id, ts_ms, type, coalesce(meter, ''), coalesce(account, ''), body FROM events"
    " WHERE id > ?1 ORDER BY id LIMIT ?2",
    "SELECT meter, day, period, consumption_micro, cost_pico FROM daily_usage"
    " WHERE meter = ?1 AND day = ?2 ORDER BY period",
    "SELECT count(*) FROM applied_commands WHERE id = ?1",
    "SELECT value FROM core_state WHERE name = ?1",
    "SELECT balance_after_fen FROM ledger WHERE id = ?1",
};

struct PrepaidStatements : StatementCache<P, kSql.size()> {
    explicit PrepaidStatements(sqlite3* handle) : StatementCache(handle, kSql) {}
};

}  // namespace detail

namespace {

using detail::nonempty;
using detail::P;
using detail::parse_decimal;
using detail::Stmt;

std::int64_t clamp_limit(std::size_t limit) {
    constexpr auto kMax = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
    return static_cast<std::int64_t>(limit > kMax ? kMax : limit);
}

Expected<Decimal> decimal_column(const Stmt& stmt, int column) {
    const std::string text = stmt.text(column);
    auto parsed = parse_decimal(text);
    if (!parsed)
        return fail("store: " + std::string(stmt.op()) + ": malformed decimal \"" + text + "\"");
    return *parsed;
}

AccountRow account_from_row(const Stmt& s) {
    AccountRow a;
    a.id = s.text(0);
    a.balance_fen = s.int64(1);
    a.emergency_active = s.int64(2) != 0;
    if (!s.is_null(3)) a.keep_power = s.int64(3) != 0;
    a.warn_level = static_cast<int>(s.int64(4));
    return a;
}

SupplyRow supply_from_row(const Stmt& s) {
    SupplyRow r;
    r.meter = s.text(0);
    r.desired = s.text(1);
    r.reason = s.text(2);
    r.desired_ms = s.int64(3);
    r.force = s.text(4);
    r.observed = s.text(5);
    r.observed_ms = s.int64(6);
    r.last_switch_ms = s.int64(7);
    r.switch_day = static_cast<int>(s.int64(8));
    r.switches_today = static_cast<int>(s.int64(9));
    r.attempts = static_cast<int>(s.int64(10));
    return r;
}

LedgerEntry ledger_from_row(const Stmt& s) {
    return LedgerEntry{s.int64(0), s.text(1), s.int64(2), s.text(3), s.int64(4),
                       s.int64(5), s.text(6), s.text(7),  s.text(8)};
}

// Steps through every row, turning each into a T.
template <typename T, typename F>
Expected<std::vector<T>> collect(Stmt& stmt, F&& from_row) {
    std::vector<T> out;
    for (;;) {
        auto row = stmt.next();
        if (!row) return unexpected(row.error());
        if (!*row) return out;
        out.push_back(from_row(stmt));
    }
}

}  // namespace

PrepaidTables::PrepaidTables(Store& store, std::unique_ptr<detail::PrepaidStatements> stmts)
    : store_(store), stmts_(std::move(stmts)) {}

PrepaidTables::~PrepaidTables() = default;

Expected<std::unique_ptr<PrepaidTables>> PrepaidTables::attach(Store& store) {
    auto stmts = std::make_unique<detail::PrepaidStatements>(store.handle());
    if (auto r = stmts->prepare_all(); !r) return unexpected(r.error());
    return std::unique_ptr<PrepaidTables>(new PrepaidTables(store, std::move(stmts)));
}

// Writes outside a transaction would each be durable on their own, splitting a
// charge from its cause: refuse them.
Result PrepaidTables::in_transaction(std::string_view op) const {
    if (sqlite3_get_autocommit(store_.handle()) != 0)
        return fail("store: " + std::string(op) + ": needs an open transaction");
    return {};
}

Expected<bool> PrepaidTables::ensure_account(std::string_view id, std::int64_t now_ms) {
    if (auto r = in_transaction("ensure_account"); !r) return unexpected(r.error());
    auto stmt = stmts_->use(P::EnsureAccount, "ensure_account");
    stmt.bind(1, id).bind(2, now_ms);
    if (auto r = stmt.run(); !r) return unexpected(r.error());
    return sqlite3_changes(store_.handle()) == 1;
}

Expected<std::optional<LedgerEntry>> PrepaidTables::append_ledger(const LedgerEntry& e) {
    if (auto r = in_transaction("append_ledger"); !r) return unexpected(r.error());
    auto stmt = stmts_->use(P::AppendLedger, "append_ledger");
    stmt.bind(1, e.account)
        .bind(2, e.ts_ms)
        .bind(3, e.kind)
        .bind(4, e.amount_fen)
        .bind(5, e.idem_key)
        .bind(6, nonempty(e.meter))
        .bind(7, e.detail.empty() ? std::string_view("{}") : std::string_view(e.detail));
    if (auto r = stmt.run(); !r) return unexpected(r.error());
    // Rows the INSERT itself added (not its triggers'): 0 or 1.
    if (sqlite3_changes(store_.handle()) == 0) {
        // Either the cause was applied before, or the account does not exist.
        auto seen = account(e.account);
        if (!seen) return unexpected(seen.error());
        if (!*seen)
            return fail("store: append_ledger: no account \"" + e.account + "\" (" + e.idem_key +
                        ")");
        return std::optional<LedgerEntry>{};
    }
    LedgerEntry stored = e;
    stored.id = sqlite3_last_insert_rowid(store_.handle());
    auto back = stmts_->use(P::LedgerBalanceAfter, "append_ledger");
    back.bind(1, stored.id);
    auto row = back.next();
    if (!row) return unexpected(row.error());
    if (!*row)
        return fail("store: append_ledger: the new row " + std::to_string(stored.id) + " (" +
                    e.idem_key + ") cannot be read back");
    stored.balance_after_fen = back.int64(0);
    return std::optional<LedgerEntry>{std::move(stored)};
}

Result PrepaidTables::set_account_flags(std::string_view id, bool emergency_active,
                                        std::optional<bool> keep_power, int warn_level) {
    if (auto r = in_transaction("set_account_flags"); !r) return r;
    auto stmt = stmts_->use(P::SetAccountFlags, "set_account_flags");
    std::optional<std::int64_t> keep;
    if (keep_power) keep = *keep_power ? 1 : 0;
    stmt.bind(1, id)
        .bind(2, std::int64_t{emergency_active ? 1 : 0})
        .bind(3, keep)
        .bind(4, std::int64_t{warn_level});
    return stmt.run();
}

Result PrepaidTables::put_meter_rating(const MeterRatingRow& r) {
    if (auto ok = in_transaction("put_meter_rating"); !ok) return ok;
    const std::string last = r.last_register.to_string();
    std::optional<std::string> suspect;
    std::optional<std::int64_t> suspect_ts;
    if (r.suspect_register) {
        suspect = r.suspect_register->to_string();
        suspect_ts = r.suspect_ts_ms;
    }
    auto stmt = stmts_->use(P::PutMeterRating, "put_meter_rating");
    stmt.bind(1, r.meter)
        .bind(2, r.account)
        .bind(3, last)
        .bind(4, r.last_ts_ms)
        .bind(5, r.remainder_pico)
        .bind(6, std::int64_t{r.cycle_key})
        .bind(7, r.cycle_consumed_micro);
    if (suspect)
        stmt.bind(8, std::string_view(*suspect));
    else
        stmt.bind_null(8);
    stmt.bind(9, suspect_ts);
    if (r.last_periods.empty())
        stmt.bind_null(10);
    else
        stmt.bind(10, std::string_view(r.last_periods));
    return stmt.run();
}

Result PrepaidTables::put_supply(const SupplyRow& r) {
    if (auto ok = in_transaction("put_supply"); !ok) return ok;
    auto stmt = stmts_->use(P::PutSupply, "put_supply");
    stmt.bind(1, r.meter)
        .bind(2, r.desired)
        .bind(3, r.reason)
        .bind(4, r.desired_ms)
        .bind(5, r.force)
        .bind(6, r.observed)
        .bind(7, r.observed_ms)
        .bind(8, r.last_switch_ms)
        .bind(9, std::int64_t{r.switch_day})
        .bind(10, std::int64_t{r.switches_today})
        .bind(11, std::int64_t{r.attempts});
    return stmt.run();
}

Expected<std::int64_t> PrepaidTables::append_event(const EventRow& e) {
    if (auto r = in_transaction("append_event"); !r) return unexpected(r.error());
    auto stmt = stmts_->use(P::AppendEvent, "append_event");
    stmt.bind(1, e.ts_ms)
        .bind(2, e.type)
        .bind(3, nonempty(e.meter))
        .bind(4, nonempty(e.account))
        .bind(5, e.body);
    if (auto r = stmt.run(); !r) return unexpected(r.error());
    return sqlite3_last_insert_rowid(store_.handle());
}

Result PrepaidTables::add_daily_usage(const DailyUsageRow& r) {
    if (auto ok = in_transaction("add_daily_usage"); !ok) return ok;
    auto stmt = stmts_->use(P::AddDailyUsage, "add_daily_usage");
    stmt.bind(1, r.meter)
        .bind(2, std::int64_t{r.day})
        .bind(3, r.period)
        .bind(4, r.consumption_micro)
        .bind(5, r.cost_pico);
    return stmt.run();
}

Expected<bool> PrepaidTables::record_command(std::string_view id, std::string_view type, bool ok,
                                             std::int64_t received_ms) {
    if (auto r = in_transaction("record_command"); !r) return unexpected(r.error());
    auto stmt = stmts_->use(P::RecordCommand, "record_command");
    stmt.bind(1, id).bind(2, received_ms).bind(3, type).bind(4, std::int64_t{ok ? 1 : 0});
    if (auto r = stmt.run(); !r) return unexpected(r.error());
    return sqlite3_changes(store_.handle()) == 1;
}

Result PrepaidTables::set_value(std::string_view name, std::int64_t value) {
    if (auto ok = in_transaction("set_value"); !ok) return ok;
    auto stmt = stmts_->use(P::SetValue, "set_value");
    stmt.bind(1, name).bind(2, value);
    return stmt.run();
}

Expected<std::optional<AccountRow>> PrepaidTables::account(std::string_view id) {
    auto stmt = stmts_->use(P::Account, "account");
    stmt.bind(1, id);
    auto row = stmt.next();
    if (!row) return unexpected(row.error());
    if (!*row) return std::optional<AccountRow>{};
    return std::optional<AccountRow>{account_from_row(stmt)};
}

Expected<std::vector<AccountRow>> PrepaidTables::accounts() {
    auto stmt = stmts_->use(P::Accounts, "accounts");
    return collect<AccountRow>(stmt, account_from_row);
}

Expected<std::optional<MeterRatingRow>> PrepaidTables::meter_rating(std::string_view meter) {
    auto stmt = stmts_->use(P::MeterRating, "meter_rating");
    stmt.bind(1, meter);
    auto row = stmt.next();
    if (!row) return unexpected(row.error());
    if (!*row) return std::optional<MeterRatingRow>{};
    MeterRatingRow r;
    r.meter = stmt.text(0);
    r.account = stmt.text(1);
    auto last = decimal_column(stmt, 2);
    if (!last) return unexpected(last.error());
    r.last_register = *last;
    r.last_ts_ms = stmt.int64(3);
    r.remainder_pico = stmt.int64(4);
    r.cycle_key = static_cast<int>(stmt.int64(5));
    r.cycle_consumed_micro = stmt.int64(6);
    if (!stmt.is_null(7)) {
        auto suspect = decimal_column(stmt, 7);
        if (!suspect) return unexpected(suspect.error());
        r.suspect_register = *suspect;
        r.suspect_ts_ms = stmt.int64(8);
    }
    r.last_periods = stmt.text(9);
    return std::optional<MeterRatingRow>{std::move(r)};
}

Expected<std::optional<SupplyRow>> PrepaidTables::supply(std::string_view meter) {
    auto stmt = stmts_->use(P::Supply, "supply");
    stmt.bind(1, meter);
    auto row = stmt.next();
    if (!row) return unexpected(row.error());
    if (!*row) return std::optional<SupplyRow>{};
    return std::optional<SupplyRow>{supply_from_row(stmt)};
}

Expected<std::vector<SupplyRow>> PrepaidTables::supplies() {
    auto stmt = stmts_->use(P::Supplies, "supplies");
    return collect<SupplyRow>(stmt, supply_from_row);
}

Expected<std::vector<LedgerEntry>> PrepaidTables::ledger(std::string_view account,
                                                         std::int64_t after_id, std::size_t limit) {
    if (account.empty()) {
        auto stmt = stmts_->use(P::LedgerAll, "ledger");
        stmt.bind(1, after_id).bind(2, clamp_limit(limit));
        return collect<LedgerEntry>(stmt, ledger_from_row);
    }
    auto stmt = stmts_->use(P::LedgerOfAccount, "ledger");
    stmt.bind(1, account).bind(2, after_id).bind(3, clamp_limit(limit));
    return collect<LedgerEntry>(stmt, ledger_from_row);
}

Expected<std::int64_t> PrepaidTables::ledger_sum(std::string_view account) {
    auto stmt = stmts_->use(P::LedgerSum, "ledger_sum");
    stmt.bind(1, account);
    auto row = stmt.next();
    if (!row) return unexpected(row.error());
    return *row ? stmt.int64(0) : 0;
}

Expected<std::vector<EventRow>> PrepaidTables::events(std::int64_t after_id, std::size_t limit) {
    auto stmt = stmts_->use(P::Events, "events");
    stmt.bind(1, after_id).bind(2, clamp_limit(limit));
    return collect<EventRow>(stmt, [](const Stmt& s) {
        return EventRow{s.int64(0), s.int64(1), s.text(2), s.text(3), s.text(4), s.text(5)};
    });
}

Expected<std::vector<DailyUsageRow>> PrepaidTables::daily_usage(std::string_view meter, int day) {
    auto stmt = stmts_->use(P::DailyUsage, "daily_usage");
    stmt.bind(1, meter).bind(2, std::int64_t{day});
    return collect<DailyUsageRow>(stmt, [](const Stmt& s) {
        return DailyUsageRow{s.text(0), static_cast<int>(s.int64(1)), s.text(2), s.int64(3),
                             s.int64(4)};
    });
}

Expected<bool> PrepaidTables::command_seen(std::string_view id) {
    auto stmt = stmts_->use(P::CommandSeen, "command_seen");
    stmt.bind(1, id);
    auto row = stmt.next();
    if (!row) return unexpected(row.error());
    return *row && stmt.int64(0) > 0;
}

Expected<std::optional<std::int64_t>> PrepaidTables::value(std::string_view name) {
    auto stmt = stmts_->use(P::Value, "value");
    stmt.bind(1, name);
    auto row = stmt.next();
    if (!row) return unexpected(row.error());
    if (!*row) return std::optional<std::int64_t>{};
    return std::optional<std::int64_t>{stmt.int64(0)};
}

}  // namespace ecmgw::store
