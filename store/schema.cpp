// The schema, as a list of migrations keyed by PRAGMA user_version: migration i
// takes the database from version i to i + 1. Migrations are append-only; a
// shipped one is never edited, because boxes in the field already ran it.
#include <sqlite3.h>

#include <array>
#include <string>
#include <string_view>

#include "ecmgw/store/store.hpp"
#include "schema.hpp"

namespace ecmgw::store::detail {

namespace {

// v0 -> v1: readings, the outbox and its gap-free sequence counter.
// The counter lives in its own table (not AUTOINCREMENT, not max(seq)) so that it
// survives an emptied outbox and is written in the same transaction as the rows.
constexpr std::string_view kV1 = R"sql(
CREATE TABLE readings (
    id       INTEGER PRIMARY KEY,
    meter    TEXT    NOT NULL CHECK (length(meter) > 0),
    ts_ms    INTEGER NOT NULL CHECK (typeof(ts_ms) = 'integer'),
    quantity TEXT    NOT NULL CHECK (length(quantity) > 0),
    -- Exact decimal text as Decimal::to_string writes it: [-]digits[.digits].
    value    TEXT    NOT NULL CHECK (
        (value GLOB '[0-9]*' OR value GLOB '-[0-9]*') AND value GLOB '*[0-9]'
        AND substr(value, 2) NOT GLOB '*[^0-9.]*' AND value NOT GLOB '*.*.*')
);
CREATE INDEX readings_meter_ts ON readings (meter, ts_ms);

CREATE TABLE outbox (
    seq        INTEGER PRIMARY KEY CHECK (seq > 0),
    kind       TEXT    NOT NULL CHECK (length(kind) > 0),
    body       TEXT    NOT NULL,
    created_ms INTEGER NOT NULL CHECK (typeof(created_ms) = 'integer')
);

CREATE TABLE sequence (
    name  TEXT    PRIMARY KEY,
    value INTEGER NOT NULL CHECK (typeof(value) = 'integer' AND value >= 0)
);
INSERT INTO sequence (name, value) VALUES ('outbox', 0);

-- A sequence number once handed out is never handed out again (invariant 4).
CREATE TRIGGER sequence_never_decreases BEFORE UPDATE OF value ON sequence
WHEN NEW.value < OLD.value
BEGIN
    SELECT RAISE(ABORT, 'sequence value must never decrease');
END;
CREATE TRIGGER sequence_never_deleted BEFORE DELETE ON sequence
BEGIN
    SELECT RAISE(ABORT, 'sequence rows must never be deleted');
END;
)sql";

// v1 -> v2: prepaid. Accounts and their ledger (balance = sum of the ledger, kept
// by a trigger in the same transaction as the row), each meter's rating state,
// each meter's supply state (desired and observed), events, per-day usage for
// the daily summaries, and the ids of commands already applied.
constexpr std::string_view kV2 = R"sql(
CREATE TABLE accounts (
    id               TEXT    PRIMARY KEY CHECK (length(id) > 0),
    balance_fen      INTEGER NOT NULL DEFAULT 0 CHECK (typeof(balance_fen) = 'integer'),
    emergency_active INTEGER NOT NULL DEFAULT 0 CHECK (emergency_active IN (0, 1)),
    -- NULL: as configured; 0/1: set by a command (the cloud's word wins over the file).
    keep_power       INTEGER CHECK (keep_power IS NULL OR keep_power IN (0, 1)),
    warn_level       INTEGER NOT NULL DEFAULT 0 CHECK (warn_level >= 0),
    created_ms       INTEGER NOT NULL
);

CREATE TABLE ledger (
    id                INTEGER PRIMARY KEY,
    account           TEXT    NOT NULL REFERENCES accounts (id),
    ts_ms             INTEGER NOT NULL CHECK (typeof(ts_ms) = 'integer'),
    kind              TEXT    NOT NULL CHECK (kind IN
        ('opening', 'charge', 'fixed_charge', 'topup', 'adjustment', 'refund')),
    amount_fen        INTEGER NOT NULL CHECK (typeof(amount_fen) = 'integer' AND amount_fen <> 0),
    balance_after_fen INTEGER NOT NULL CHECK (typeof(balance_after_fen) = 'integer'),
    -- What caused the row, unique: "topup:<txn>", "charge:<meter>:<from_ms>",
    -- "fixed:<account>:<tariff>:<day>", ... A cause applies at most once (invariant 2).
    idem_key          TEXT    NOT NULL UNIQUE,
    meter             TEXT,
    detail            TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX ledger_account ON ledger (account, id);

-- Invariant 1 by construction: the balance moves only with a ledger row, in the
-- same statement, and a row must state the balance it leads to.
CREATE TRIGGER ledger_states_its_balance BEFORE INSERT ON ledger
WHEN NEW.balance_after_fen IS NOT
     (SELECT balance_fen FROM accounts WHERE id = NEW.account) + NEW.amount_fen
BEGIN
    SELECT RAISE(ABORT, 'ledger row balance_after_fen does not follow from the account balance');
END;
CREATE TRIGGER ledger_moves_balance AFTER INSERT ON ledger
BEGIN
    UPDATE accounts SET balance_fen = balance_fen + NEW.amount_fen WHERE id = NEW.account;
END;
CREATE TRIGGER ledger_never_updated BEFORE UPDATE ON ledger
BEGIN
    SELECT RAISE(ABORT, 'ledger rows are never changed; correct with an adjustment');
END;
CREATE TRIGGER ledger_never_deleted BEFORE DELETE ON ledger
BEGIN
    SELECT RAISE(ABORT, 'ledger rows are never deleted');
END;

-- Where each meter's charging stands: the last charged register and time, the
-- sub-fen remainder, the billing cycle's consumption, and a suspect reading that
-- was quarantined (a replaced meter is re-based once a second reading confirms it).
CREATE TABLE meter_rating (
    meter                TEXT    PRIMARY KEY,
    account              TEXT    NOT NULL REFERENCES accounts (id),
    last_register        TEXT    NOT NULL,
    last_ts_ms           INTEGER NOT NULL,
    remainder_pico       INTEGER NOT NULL CHECK (remainder_pico >= 0 AND remainder_pico < 10000000000),
    cycle_key            INTEGER NOT NULL,
    cycle_consumed_micro INTEGER NOT NULL CHECK (cycle_consumed_micro >= 0),
    suspect_register     TEXT,
    suspect_ts_ms        INTEGER,
    -- The meter's own time-of-use registers at last_ts_ms, in micro-units
    -- ("sharp,peak,flat,valley"),
    -- when it reads them: the next interval is split by their movement.
    last_periods         TEXT
);
-- A reading interval is charged at most once (invariant 2): the charged-up-to time
-- only moves forward.
CREATE TRIGGER meter_rating_moves_forward BEFORE UPDATE OF last_ts_ms ON meter_rating
WHEN NEW.last_ts_ms < OLD.last_ts_ms
BEGIN
    SELECT RAISE(ABORT, 'a meter''s charged-up-to time never goes back');
END;

CREATE TABLE supply (
    meter          TEXT    PRIMARY KEY,
    desired        TEXT    NOT NULL CHECK (desired IN ('on', 'off')),
    reason         TEXT    NOT NULL,
    desired_ms     INTEGER NOT NULL,
    force          TEXT    NOT NULL DEFAULT 'none' CHECK (force IN ('none', 'on', 'off')),
    observed       TEXT    NOT NULL DEFAULT 'unknown' CHECK (observed IN ('on', 'off', 'unknown')),
    observed_ms    INTEGER NOT NULL DEFAULT 0,
    last_switch_ms INTEGER NOT NULL DEFAULT 0,
    switch_day     INTEGER NOT NULL DEFAULT 0,
    switches_today INTEGER NOT NULL DEFAULT 0,
    attempts       INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE events (
    id      INTEGER PRIMARY KEY,
    ts_ms   INTEGER NOT NULL,
    type    TEXT    NOT NULL CHECK (length(type) > 0),
    meter   TEXT,
    account TEXT,
    body    TEXT    NOT NULL
);
CREATE INDEX events_ts ON events (ts_ms);

CREATE TABLE daily_usage (
    meter             TEXT    NOT NULL,
    day               INTEGER NOT NULL,
    period            TEXT    NOT NULL,
    consumption_micro INTEGER NOT NULL,
    cost_pico         INTEGER NOT NULL,
    PRIMARY KEY (meter, day, period)
) WITHOUT ROWID;

CREATE TABLE applied_commands (
    id          TEXT    PRIMARY KEY,
    received_ms INTEGER NOT NULL,
    type        TEXT    NOT NULL,
    ok          INTEGER NOT NULL CHECK (ok IN (0, 1))
);

-- Small named values the core keeps across restarts (the last summarised day, ...).
CREATE TABLE core_state (
    name  TEXT    PRIMARY KEY,
    value INTEGER NOT NULL
);
)sql";

// v2 -> v3: the registry of tariffs, accounts and meters the cloud provisioned.
// Each row is one entity as a JSON object with the config file's keys, laid over
// the file's entries of the same kind and id; a removal is a row with body NULL.
constexpr std::string_view kV3 = R"sql(
CREATE TABLE provisioned (
    kind       TEXT    NOT NULL CHECK (kind IN ('tariff', 'account', 'meter')),
    id         TEXT    NOT NULL CHECK (length(id) > 0),
    body       TEXT,
    command    TEXT    NOT NULL,
    changed_ms INTEGER NOT NULL,
    PRIMARY KEY (kind, id)
) WITHOUT ROWID;
)sql";

// v3 -> v4: the outbox's size, kept by triggers in the statement that changes it, so
// that the cap ([store] outbox_max_mb) is checked after every batch without summing
// hundreds of megabytes of bodies. `bytes` counts the bodies' bytes, as the uplink does.
constexpr std::string_view kV4 = R"sql(
CREATE TABLE outbox_usage (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    records INTEGER NOT NULL CHECK (records >= 0),
    bytes   INTEGER NOT NULL CHECK (bytes >= 0)
);
INSERT INTO outbox_usage (id, records, bytes)
    SELECT 1, count(*), coalesce(sum(length(CAST(body AS BLOB))), 0) FROM outbox;
CREATE TRIGGER outbox_usage_insert AFTER INSERT ON outbox
BEGIN
    UPDATE outbox_usage SET records = records + 1,
        bytes = bytes + length(CAST(NEW.body AS BLOB)) WHERE id = 1;
END;
CREATE TRIGGER outbox_usage_delete AFTER DELETE ON outbox
BEGIN
    UPDATE outbox_usage SET records = records - 1,
        bytes = bytes - length(CAST(OLD.body AS BLOB)) WHERE id = 1;
END;
CREATE TRIGGER outbox_usage_update AFTER UPDATE OF body ON outbox
BEGIN
    UPDATE outbox_usage SET bytes = bytes - length(CAST(OLD.body AS BLOB))
        + length(CAST(NEW.body AS BLOB)) WHERE id = 1;
END;
CREATE TRIGGER outbox_usage_never_deleted BEFORE DELETE ON outbox_usage
BEGIN
    SELECT RAISE(ABORT, 'the outbox_usage row must never be deleted');
END;
)sql";

// v4 -> v5: charge rows can be folded. A box charges every reading that moved a
// register, so its ledger would grow by hundreds of thousands of rows a day and
// outlive the SD card. Charge and standing-charge rows past retention (already
// acknowledged by the broker) may be deleted; the delete trigger adds each one to
// its account's folded total in the same statement, so balance = folded total +
// sum of the ledger's rows, always. Their causes cannot come back: a meter's
// charged-up-to time only moves forward, standing charges are posted from
// fixed_charges_through_ms on. Top-ups, refunds, adjustments and openings are never
// deleted: their causes (a payment's txn) must stay unique for ever.
constexpr std::string_view kV5 = R"sql(
CREATE TABLE ledger_folded (
    account    TEXT    PRIMARY KEY REFERENCES accounts (id),
    amount_fen INTEGER NOT NULL DEFAULT 0 CHECK (typeof(amount_fen) = 'integer'),
    rows       INTEGER NOT NULL DEFAULT 0 CHECK (rows >= 0),
    through_ms INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX ledger_foldable ON ledger (ts_ms) WHERE kind IN ('charge', 'fixed_charge');
DROP TRIGGER ledger_never_deleted;
CREATE TRIGGER ledger_never_deleted BEFORE DELETE ON ledger
WHEN OLD.kind NOT IN ('charge', 'fixed_charge')
BEGIN
    SELECT RAISE(ABORT, 'top-up, refund, adjustment and opening rows are never deleted');
END;
CREATE TRIGGER ledger_folds_what_is_deleted AFTER DELETE ON ledger
BEGIN
    INSERT INTO ledger_folded (account) VALUES (OLD.account) ON CONFLICT DO NOTHING;
    UPDATE ledger_folded SET amount_fen = amount_fen + OLD.amount_fen, rows = rows + 1,
        through_ms = max(through_ms, OLD.ts_ms) WHERE account = OLD.account;
END;
CREATE TRIGGER ledger_folded_never_deleted BEFORE DELETE ON ledger_folded
BEGIN
    SELECT RAISE(ABORT, 'the folded part of a ledger is never deleted');
END;
)sql";

// One entry per schema version; the array's size ties it to kSchemaVersion.
constexpr std::array<std::string_view, Store::kSchemaVersion> kMigrations = {kV1, kV2, kV3, kV4,
                                                                             kV5};
// A std::array quietly value-initialises missing entries: catch a kSchemaVersion
// bump without its migration at compile time, not on a box in the field.
static_assert(
    [] {
        for (std::string_view m : kMigrations)
            if (m.empty()) return false;
        return true;
    }(),
    "every schema version needs its migration script in kMigrations");

Unexpected<Error> sql_error(sqlite3* db, std::string_view what) {
    return fail("store: schema migration: " + std::string(what) + ": " + sqlite3_errmsg(db) +
                " (sqlite code " + std::to_string(sqlite3_extended_errcode(db)) + ")");
}

Result exec(sqlite3* db, std::string_view sql, std::string_view what) {
    if (sqlite3_exec(db, std::string(sql).c_str(), nullptr, nullptr, nullptr) != SQLITE_OK)
        return sql_error(db, what);
    return {};
}

Expected<int> user_version(sqlite3* db) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, nullptr) != SQLITE_OK)
        return sql_error(db, "reading user_version");
    const int rc = sqlite3_step(stmt);
    const int version = rc == SQLITE_ROW ? sqlite3_column_int(stmt, 0) : -1;
    sqlite3_finalize(stmt);
    if (rc != SQLITE_ROW) return sql_error(db, "reading user_version");
    return version;
}

Result refuse_if_newer(int version) {
    if (version <= Store::kSchemaVersion) return {};
    return fail("store: the database has schema version " + std::to_string(version) +
                " but this build of ecmgw knows only up to " +
                std::to_string(Store::kSchemaVersion) +
                "; it was written by a newer ecmgw (refusing to open it, to avoid damaging it)");
}

// Applies migration `index` unless another connection got there first: the
// version is re-read under the write lock that BEGIN IMMEDIATE takes, so two
// processes opening a new database at once cannot both run the same script.
Result apply_one(sqlite3* db, std::size_t index) {
    if (auto r = exec(db, "BEGIN IMMEDIATE", "beginning migration"); !r) return r;
    auto rollback_with = [db](Result failure) {
        sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
        return failure;
    };
    auto version = user_version(db);
    if (!version) return rollback_with(unexpected(version.error()));
    if (auto r = refuse_if_newer(*version); !r) return rollback_with(r);
    if (static_cast<std::size_t>(*version) > index) return rollback_with({});

    const std::string step = "migration to version " + std::to_string(index + 1);
    if (auto r = exec(db, kMigrations[index], step); !r) return rollback_with(r);
    // PRAGMA takes no bound parameters; the number is ours, not input.
    const std::string set_version = "PRAGMA user_version = " + std::to_string(index + 1);
    if (auto r = exec(db, set_version, step); !r) return rollback_with(r);
    if (auto r = exec(db, "COMMIT", step); !r) return rollback_with(r);
    return {};
}

}  // namespace

Result migrate(sqlite3* db) {
    auto version = user_version(db);
    if (!version) return unexpected(version.error());
    if (auto r = refuse_if_newer(*version); !r) return r;
    for (auto index = static_cast<std::size_t>(*version); index < kMigrations.size(); ++index) {
        if (auto r = apply_one(db, index); !r) return r;
    }
    return {};
}

}  // namespace ecmgw::store::detail
