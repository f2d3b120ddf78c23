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

// One entry per schema version; the array's size ties it to kSchemaVersion.
constexpr std::array<std::string_view, Store::kSchemaVersion> kMigrations = {kV1};
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
