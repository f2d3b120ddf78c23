// The SQLite store. One Store is one connection with its own cache of prepared
// statements; a Transaction is a BEGIN IMMEDIATE ... COMMIT on that connection.
#include "ecmgw/store/store.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "schema.hpp"
#include "statement.hpp"

namespace ecmgw::store {

namespace detail {

// The store's own reports, which the outbox cap never drops: a drop event must
// reach the cloud, or it could not tell the dropped seqs from lost ones.
#define ECMGW_STORE_REPORT                                                                     \
    "(kind = 'event' AND json_valid(body) AND coalesce(json_extract(body, '$.event'), '') IN " \
    "('outbox_dropped', 'store_write_failed'))"

// Every statement the store runs, prepared once per connection at open.
enum class Q : std::size_t {
    Begin,
    Commit,
    Rollback,
    ReadSeq,
    WriteSeq,
    InsertReading,
    InsertOutbox,
    PeekOutbox,
    DeleteOutbox,
    DeleteOutboxRecord,
    OutboxStats,
    QueryReadingsOfMeter,
    QueryReadingsAll,
    LatestReading,
    ReadingBefore,
    ReadingCount,
    UserVersion,
    OutboxBytes,
    InsertEvent,
    TrimCandidates,
    TrimDelete,
    OldestPendingMs,
    SummariesFromMs,
    MeterAtOrAfter,
    MeterAfter,
    PruneReadingsOfMeter,
    PruneEvents,
    FoldLedger,
    Count_,
};

constexpr std::array<const char*, static_cast<std::size_t>(Q::Count_)> kSql = {
    // BEGIN IMMEDIATE takes the write lock up front (waiting up to busy_timeout),
    // so a transaction never fails half-way because another writer came first.
    "BEGIN IMMEDIATE",
    "COMMIT",
    "ROLLBACK",
    "SELECT value FROM sequence WHERE name = 'outbox'",
    "UPDATE sequence SET value = ?1 WHERE name = 'outbox'",
    "INSERT INTO readings (meter, ts_ms, quantity, value) VALUES (?1, ?2, ?3, ?4)",
    "INSERT INTO outbox (seq, kind, body, created_ms) VALUES (?1, ?2, ?3, ?4)",
    "SELECT seq, kind, body, created_ms FROM outbox WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    "DELETE FROM outbox WHERE seq <= ?1",
    "DELETE FROM outbox WHERE seq = ?1",
    // The counts come from outbox_usage (kept by triggers, schema v4): summing the
    // bodies of a capped outbox would read hundreds of megabytes.
    "SELECT u.records, coalesce((SELECT min(seq) FROM outbox), 0),"
    " coalesce((SELECT max(seq) FROM outbox), 0), u.bytes FROM outbox_usage AS u WHERE u.id = 1",
    "SELECT meter, ts_ms, quantity, value FROM readings"
    " WHERE meter = ?1 AND ts_ms >= ?2 AND ts_ms < ?3 ORDER BY ts_ms, id LIMIT ?4",
    "SELECT meter, ts_ms, quantity, value FROM readings"
    " WHERE ts_ms >= ?1 AND ts_ms < ?2 ORDER BY ts_ms, id LIMIT ?3",
    "SELECT meter, ts_ms, quantity, value FROM readings"
    " WHERE meter = ?1 AND quantity = ?2 ORDER BY ts_ms DESC, id DESC LIMIT 1",
    "SELECT meter, ts_ms, quantity, value FROM readings"
    " WHERE meter = ?1 AND quantity = ?2 AND ts_ms < ?3 ORDER BY ts_ms DESC, id DESC LIMIT 1",
    "SELECT count(*) FROM readings",
    "PRAGMA user_version",
    "SELECT bytes FROM outbox_usage WHERE id = 1",
    "INSERT INTO events (ts_ms, type, meter, account, body) VALUES (?1, ?2, ?3, ?4, ?5)",
    // length() counts characters; the cast makes it count bytes, as outbox_usage does.
    "SELECT seq, length(CAST(body AS BLOB)) FROM outbox WHERE kind = ?1 AND seq > ?2"
    " AND NOT " ECMGW_STORE_REPORT " ORDER BY seq LIMIT 512",
    "DELETE FROM outbox WHERE kind = ?1 AND seq BETWEEN ?2 AND ?3 AND NOT " ECMGW_STORE_REPORT,
    "SELECT created_ms FROM outbox ORDER BY seq LIMIT 1",
    "SELECT value FROM core_state WHERE name = 'summaries_from_ms'",
    "SELECT meter FROM readings WHERE meter >= ?1 ORDER BY meter LIMIT 1",
    "SELECT meter FROM readings WHERE meter > ?1 ORDER BY meter LIMIT 1",
    // Both walk the (meter, ts_ms) index; the inner query finds the reading that
    // reading_before(meter, quantity, cutoff) returns, which stays.
    "DELETE FROM readings WHERE id IN (SELECT r.id FROM readings AS r"
    " WHERE r.meter = ?1 AND r.ts_ms < ?2 AND r.id IS NOT (SELECT k.id FROM readings AS k"
    "  WHERE k.meter = r.meter AND k.quantity = r.quantity AND k.ts_ms < ?2"
    "  ORDER BY k.ts_ms DESC, k.id DESC LIMIT 1)"
    " ORDER BY r.ts_ms LIMIT ?3)",
    "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE ts_ms < ?1 ORDER BY ts_ms LIMIT "
    "?2)",
    // The partial index ledger_foldable (schema v5) answers this without a scan; the
    // delete trigger adds each row to its account's folded total.
    "DELETE FROM ledger WHERE id IN (SELECT id FROM ledger"
    " WHERE kind IN ('charge', 'fixed_charge') AND ts_ms < ?1 ORDER BY ts_ms LIMIT ?2)",
};

#undef ECMGW_STORE_REPORT

struct Statements : StatementCache<Q, kSql.size()> {
    explicit Statements(sqlite3* handle) : StatementCache(handle, kSql) {}
};

}  // namespace detail

namespace {

using detail::parse_decimal;
using detail::Q;
using detail::sql_error;
using detail::Statements;

constexpr std::int64_t kMaxLimit = std::numeric_limits<std::int64_t>::max();

std::int64_t clamp_limit(std::size_t limit) {
    return limit > static_cast<std::uint64_t>(kMaxLimit) ? kMaxLimit
                                                         : static_cast<std::int64_t>(limit);
}

// Reads the (meter, ts_ms, quantity, value) columns of the current row.
Expected<Reading> reading_from_row(const detail::Stmt& stmt) {
    Reading r;
    r.meter = stmt.text(0);
    r.ts_ms = stmt.int64(1);
    r.quantity = stmt.text(2);
    const std::string value = stmt.text(3);
    const auto parsed = parse_decimal(value);
    if (!parsed)
        return fail("store: " + std::string(stmt.op()) + ": reading of " + r.meter + " at " +
                    std::to_string(r.ts_ms) + " has a malformed value \"" + value + "\"");
    r.value = *parsed;
    return r;
}

Expected<std::vector<Reading>> collect_readings(detail::Stmt& stmt) {
    std::vector<Reading> out;
    for (;;) {
        auto row = stmt.next();
        if (!row) return unexpected(row.error());
        if (!*row) return out;
        auto reading = reading_from_row(stmt);
        if (!reading) return unexpected(reading.error());
        out.push_back(std::move(*reading));
    }
}

// Runs a query that yields one integer.
Expected<std::int64_t> single_int(Statements& stmts, Q q, std::string_view op) {
    auto stmt = stmts.use(q, op);
    auto row = stmt.next();
    if (!row) return unexpected(row.error());
    if (!*row) return fail("store: " + std::string(op) + ": the query returned no row");
    return stmt.int64(0);
}

// Rolls back whatever SQLite still considers open on this connection. SQLite
// itself may already have rolled back (after SQLITE_FULL, SQLITE_IOERR, ...).
void rollback_if_active(Statements& stmts) {
    if (sqlite3_get_autocommit(stmts.db) == 0) (void)stmts.use(Q::Rollback, "rollback").run();
}

// Guards every Transaction operation. Besides refusing use after commit, it
// catches the case where SQLite rolled the transaction back on its own after an
// error: further writes would otherwise run in autocommit mode, each durable on
// its own, breaking both atomicity and the sequence counter.
Result ensure_open(bool& open, sqlite3* db, std::string_view op) {
    if (!open)
        return fail("store: " + std::string(op) +
                    ": the transaction is no longer open (committed, rolled back or moved from)");
    if (sqlite3_get_autocommit(db) != 0) {
        open = false;
        return fail("store: " + std::string(op) +
                    ": SQLite rolled the transaction back after an earlier error; nothing of it "
                    "was stored");
    }
    return {};
}

Result exec(sqlite3* db, const char* sql, std::string_view op) {
    if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return sql_error(db, op);
    return {};
}

// WAL lets the uplink read while the core writes; synchronous=FULL makes each
// COMMIT durable (the WAL is synced) before it returns, so acknowledged data
// survives a power cut. The busy timeout is set first so that even switching the
// journal mode waits for another opening connection instead of failing.
Result configure(sqlite3* db) {
    if (sqlite3_busy_timeout(db, 5000) != SQLITE_OK) return sql_error(db, "setting busy_timeout");
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &stmt, nullptr) != SQLITE_OK)
        return sql_error(db, "setting journal_mode=WAL");
    const bool got_row = sqlite3_step(stmt) == SQLITE_ROW;
    const auto* mode = got_row ? sqlite3_column_text(stmt, 0) : nullptr;
    const std::string journal_mode = mode ? reinterpret_cast<const char*>(mode) : "";
    sqlite3_finalize(stmt);
    if (!got_row) return sql_error(db, "setting journal_mode=WAL");
    if (journal_mode != "wal")
        return fail("store: setting journal_mode=WAL: SQLite kept journal_mode=" + journal_mode +
                    " (WAL needs a file on a local file system)");
    if (auto r = exec(db, "PRAGMA synchronous = FULL", "setting synchronous=FULL"); !r) return r;
    // A big transaction (a cap drop, a backlog written after a full disk) grows the
    // WAL; without a limit the file keeps that size for ever, space a small card
    // needs back. 16 MB is several minutes of a busy box's commits.
    if (auto r = exec(db, "PRAGMA journal_size_limit = 16777216", "setting journal_size_limit"); !r)
        return r;
    return exec(db, "PRAGMA foreign_keys = ON", "setting foreign_keys=ON");
}

}  // namespace

// ---------------------------------------------------------------- Transaction

Transaction::Transaction(Store& store) : store_(&store) {}

Transaction::Transaction(Transaction&& other) noexcept
    : store_(other.store_),
      open_(std::exchange(other.open_, false)),
      next_seq_(other.next_seq_),
      seq_loaded_(other.seq_loaded_),
      seq_dirty_(other.seq_dirty_) {}

Transaction::~Transaction() {
    if (open_) rollback_if_active(*store_->stmts_);
}

Result Transaction::insert_reading(const Reading& r) {
    if (auto ok = ensure_open(open_, store_->db_, "insert_reading"); !ok) return ok;
    const std::string value = r.value.to_string();
    auto stmt = store_->stmts_->use(Q::InsertReading, "insert_reading");
    stmt.bind(1, r.meter).bind(2, r.ts_ms).bind(3, r.quantity).bind(4, value);
    return stmt.run();
}

Expected<std::int64_t> Transaction::append_outbox(std::string_view kind, std::string_view body,
                                                  std::int64_t created_ms) {
    if (auto ok = ensure_open(open_, store_->db_, "append_outbox"); !ok)
        return unexpected(ok.error());
    // The counter is read once, under this transaction's write lock, so no other
    // connection can hand out the same numbers meanwhile.
    if (!seq_loaded_) {
        auto counter =
            single_int(*store_->stmts_, Q::ReadSeq, "append_outbox: reading the counter");
        if (!counter) return unexpected(counter.error());
        next_seq_ = *counter + 1;
        seq_loaded_ = true;
    }
    auto stmt = store_->stmts_->use(Q::InsertOutbox, "append_outbox");
    stmt.bind(1, next_seq_).bind(2, kind).bind(3, body).bind(4, created_ms);
    // A failed insert does not consume the number: the next append reuses it.
    if (auto r = stmt.run(); !r) return unexpected(r.error());
    seq_dirty_ = true;
    return next_seq_++;
}

Expected<std::int64_t> Transaction::append_event(std::int64_t ts_ms, std::string_view type,
                                                 std::string_view body, std::string_view meter,
                                                 std::string_view account) {
    if (auto ok = ensure_open(open_, store_->db_, "append_event"); !ok)
        return unexpected(ok.error());
    {
        auto stmt = store_->stmts_->use(Q::InsertEvent, "append_event");
        stmt.bind(1, ts_ms)
            .bind(2, type)
            .bind(3, detail::nonempty(meter))
            .bind(4, detail::nonempty(account))
            .bind(5, body);
        if (auto r = stmt.run(); !r) return unexpected(r.error());
    }
    return append_outbox("event", body, ts_ms);
}

Expected<bool> Transaction::delete_outbox_record(std::int64_t seq) {
    if (auto ok = ensure_open(open_, store_->db_, "delete_outbox_record"); !ok)
        return unexpected(ok.error());
    auto stmt = store_->stmts_->use(Q::DeleteOutboxRecord, "delete_outbox_record");
    stmt.bind(1, seq);
    if (auto r = stmt.run(); !r) return unexpected(r.error());
    return sqlite3_changes(store_->db_) == 1;
}

Expected<std::vector<OutboxDrop>> Transaction::trim_outbox(std::int64_t cap_bytes,
                                                           std::int64_t target_bytes) {
    if (auto ok = ensure_open(open_, store_->db_, "trim_outbox"); !ok)
        return unexpected(ok.error());
    Statements& stmts = *store_->stmts_;
    auto usage = single_int(stmts, Q::OutboxBytes, "trim_outbox: reading the outbox size");
    if (!usage) return unexpected(usage.error());
    std::vector<OutboxDrop> drops;
    if (*usage <= cap_bytes) return drops;
    std::int64_t excess = *usage - std::min(target_bytes, cap_bytes);
    // Readings go first: the meters' registers are cumulative (the next reading
    // carries the consumption) and the readings table keeps them for retention_days.
    // Summaries can be recomputed from the ledger; ledger entries are money and
    // acknowledgements answer the cloud's commands, so they go last.
    static constexpr std::array<const char*, 5> kDropOrder = {"reading", "summary", "event",
                                                              "ledger", "ack"};
    for (const char* kind : kDropOrder) {
        if (excess <= 0) break;
        OutboxDrop drop{kind, 0, 0, 0, 0};
        std::int64_t after = 0;
        bool exhausted = false;
        while (excess > 0 && !exhausted) {
            auto stmt = stmts.use(Q::TrimCandidates, "trim_outbox: choosing records");
            stmt.bind(1, std::string_view(kind)).bind(2, after);
            exhausted = true;
            while (excess > 0) {
                auto row = stmt.next();
                if (!row) return unexpected(row.error());
                if (!*row) break;
                exhausted = false;
                after = stmt.int64(0);
                if (drop.count == 0) drop.first_seq = after;
                drop.last_seq = after;
                ++drop.count;
                drop.bytes += stmt.int64(1);
                excess -= stmt.int64(1);
            }
        }
        if (drop.count == 0) continue;
        auto stmt = stmts.use(Q::TrimDelete, "trim_outbox: dropping records");
        stmt.bind(1, std::string_view(kind)).bind(2, drop.first_seq).bind(3, drop.last_seq);
        if (auto r = stmt.run(); !r) return unexpected(r.error());
        if (sqlite3_changes(store_->db_) != drop.count)
            return fail("store: trim_outbox: dropped " +
                        std::to_string(sqlite3_changes(store_->db_)) + " " + kind +
                        " records, expected " + std::to_string(drop.count));
        drops.push_back(std::move(drop));
    }
    return drops;
}

Result Transaction::commit() {
    if (auto ok = ensure_open(open_, store_->db_, "commit"); !ok) return ok;
    Statements& stmts = *store_->stmts_;
    // Either everything is committed or nothing is: any failure rolls back.
    auto give_up = [&](Result failure) {
        rollback_if_active(stmts);
        open_ = false;
        return failure;
    };
    if (seq_dirty_) {
        // The counter is written once per transaction, not once per record.
        auto stmt = stmts.use(Q::WriteSeq, "commit: writing the outbox counter");
        stmt.bind(1, next_seq_ - 1);
        if (auto r = stmt.run(); !r) return give_up(r);
        if (sqlite3_changes(store_->db_) != 1)
            return give_up(fail("store: commit: the outbox counter row is missing"));
    }
    if (auto r = stmts.use(Q::Commit, "commit").run(); !r) return give_up(r);
    open_ = false;
    return {};
}

// ---------------------------------------------------------------------- Store

Store::Store(sqlite3* db) : db_(db), stmts_(std::make_unique<detail::Statements>(db)) {}

Store::~Store() {
    stmts_.reset();  // statements must be finalized before the connection closes
    sqlite3_close_v2(db_);
}

Result Store::prepare_statements() { return stmts_->prepare_all(); }

Expected<std::unique_ptr<Store>> Store::open(const std::filesystem::path& path) {
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2(
        path.c_str(), &db,
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
        nullptr);
    // The Store owns the handle from here on, so every early return closes it.
    std::unique_ptr<Store> store(new Store(db));
    const std::string where = "opening " + path.string();
    if (rc != SQLITE_OK) {
        if (db == nullptr) return fail("store: " + where + ": " + sqlite3_errstr(rc));
        return sql_error(db, where);
    }
    if (auto r = configure(db); !r) return fail(r.error().message + " (" + where + ")");
    if (auto r = detail::migrate(db); !r) return fail(r.error().message + " (" + where + ")");
    if (auto r = store->prepare_statements(); !r) return unexpected(r.error());
    return store;
}

Expected<Transaction> Store::begin() {
    if (auto r = stmts_->use(Q::Begin, "begin").run(); !r) return unexpected(r.error());
    return Transaction(*this);
}

Expected<std::vector<OutboxRecord>> Store::peek_outbox(std::int64_t after_seq,
                                                       std::size_t max_records,
                                                       std::size_t max_bytes) {
    std::vector<OutboxRecord> out;
    if (max_records == 0) return out;
    auto stmt = stmts_->use(Q::PeekOutbox, "peek_outbox");
    stmt.bind(1, after_seq).bind(2, clamp_limit(max_records));
    std::size_t bytes = 0;
    for (;;) {
        auto row = stmt.next();
        if (!row) return unexpected(row.error());
        if (!*row) return out;
        const std::size_t body_bytes = stmt.bytes(2);
        // The first record goes out whatever its size, or the uplink would stall.
        if (!out.empty() && bytes + body_bytes > max_bytes) return out;
        out.push_back(OutboxRecord{stmt.int64(0), stmt.text(1), stmt.text(2), stmt.int64(3)});
        bytes += body_bytes;
    }
}

Result Store::delete_outbox_through(std::int64_t seq) {
    auto stmt = stmts_->use(Q::DeleteOutbox, "delete_outbox_through");
    stmt.bind(1, seq);
    return stmt.run();
}

Expected<OutboxStats> Store::outbox_stats() {
    auto stmt = stmts_->use(Q::OutboxStats, "outbox_stats");
    auto row = stmt.next();
    if (!row) return unexpected(row.error());
    if (!*row) return fail("store: outbox_stats: the query returned no row");
    return OutboxStats{stmt.int64(0), stmt.int64(1), stmt.int64(2), stmt.int64(3)};
}

Expected<std::int64_t> Store::last_seq() { return single_int(*stmts_, Q::ReadSeq, "last_seq"); }

Expected<std::vector<Reading>> Store::query_readings(std::string_view meter, std::int64_t from_ms,
                                                     std::int64_t to_ms, std::size_t limit) {
    if (limit == 0) return std::vector<Reading>{};
    if (meter.empty()) {
        auto stmt = stmts_->use(Q::QueryReadingsAll, "query_readings");
        stmt.bind(1, from_ms).bind(2, to_ms).bind(3, clamp_limit(limit));
        return collect_readings(stmt);
    }
    auto stmt = stmts_->use(Q::QueryReadingsOfMeter, "query_readings");
    stmt.bind(1, meter).bind(2, from_ms).bind(3, to_ms).bind(4, clamp_limit(limit));
    return collect_readings(stmt);
}

namespace {
// Steps a query that yields at most one reading.
Expected<std::optional<Reading>> optional_reading(detail::Stmt& stmt) {
    auto row = stmt.next();
    if (!row) return unexpected(row.error());
    if (!*row) return std::optional<Reading>{};
    auto reading = reading_from_row(stmt);
    if (!reading) return unexpected(reading.error());
    return std::optional<Reading>{std::move(*reading)};
}
}  // namespace

Expected<std::optional<Reading>> Store::latest_reading(std::string_view meter,
                                                       std::string_view quantity) {
    auto stmt = stmts_->use(Q::LatestReading, "latest_reading");
    stmt.bind(1, meter).bind(2, quantity);
    return optional_reading(stmt);
}

Expected<std::optional<Reading>> Store::reading_before(std::string_view meter,
                                                       std::string_view quantity,
                                                       std::int64_t before_ms) {
    auto stmt = stmts_->use(Q::ReadingBefore, "reading_before");
    stmt.bind(1, meter).bind(2, quantity).bind(3, before_ms);
    return optional_reading(stmt);
}

Expected<std::int64_t> Store::reading_count() {
    return single_int(*stmts_, Q::ReadingCount, "reading_count");
}

namespace {
// A query that yields at most one integer (NULL counts as none).
Expected<std::optional<std::int64_t>> optional_int(Statements& stmts, Q q, std::string_view op) {
    auto stmt = stmts.use(q, op);
    auto row = stmt.next();
    if (!row) return unexpected(row.error());
    if (!*row || stmt.is_null(0)) return std::optional<std::int64_t>{};
    return std::optional<std::int64_t>{stmt.int64(0)};
}

Expected<std::optional<std::string>> meter_from(Statements& stmts, Q q, const std::string& from) {
    auto stmt = stmts.use(q, "prune: finding the next meter");
    stmt.bind(1, from);
    auto row = stmt.next();
    if (!row) return unexpected(row.error());
    if (!*row) return std::optional<std::string>{};
    return std::optional<std::string>{stmt.text(0)};
}
}  // namespace

Expected<std::int64_t> Store::prune_readings_of(const std::string& meter, std::int64_t cutoff_ms,
                                                std::int64_t budget) {
    auto stmt = stmts_->use(Q::PruneReadingsOfMeter, "prune: deleting readings");
    stmt.bind(1, meter).bind(2, cutoff_ms).bind(3, budget);
    if (auto r = stmt.run(); !r) return unexpected(r.error());
    return static_cast<std::int64_t>(sqlite3_changes(db_));
}

Expected<PruneResult> Store::prune(std::int64_t cutoff_ms, std::size_t max_rows) {
    PruneResult out;
    if (max_rows == 0) return out;
    auto tx = begin();
    if (!tx) return unexpected(tx.error());
    // A record still waiting in the outbox was created at or after the oldest
    // one's created_ms; its reading or event is not older than that. (An event's
    // row and record share their time; a reading is stored when read, or later
    // after a store failure, so its time is never after its record's.)
    auto pending = optional_int(*stmts_, Q::OldestPendingMs, "prune: reading the outbox");
    if (!pending) return unexpected(pending.error());
    // The daily summaries still to write read each meter's last reading before
    // their day's end.
    auto summaries = optional_int(*stmts_, Q::SummariesFromMs, "prune: reading core_state");
    if (!summaries) return unexpected(summaries.error());
    const std::int64_t event_cutoff = std::min(cutoff_ms, pending->value_or(cutoff_ms));
    const std::int64_t reading_cutoff = std::min(event_cutoff, summaries->value_or(cutoff_ms));

    auto budget = clamp_limit(max_rows);
    const std::string start = prune_meter_;
    auto meter = meter_from(*stmts_, Q::MeterAtOrAfter, start);
    bool wrapped = false;
    while (budget > 0) {
        if (!meter) return unexpected(meter.error());
        if (!*meter) {
            if (wrapped || start.empty()) break;
            wrapped = true;
            meter = meter_from(*stmts_, Q::MeterAtOrAfter, std::string());
            continue;
        }
        if (wrapped && **meter >= start) break;  // every meter visited once
        auto deleted = prune_readings_of(**meter, reading_cutoff, budget);
        if (!deleted) return unexpected(deleted.error());
        out.readings += *deleted;
        budget -= *deleted;
        if (budget == 0) {
            prune_meter_ = **meter;  // it may have more: resume there
            break;
        }
        meter = meter_from(*stmts_, Q::MeterAfter, **meter);
    }
    if (budget > 0) {
        prune_meter_.clear();
        auto stmt = stmts_->use(Q::PruneEvents, "prune: deleting events");
        stmt.bind(1, event_cutoff).bind(2, budget);
        if (auto r = stmt.run(); !r) return unexpected(r.error());
        out.events = sqlite3_changes(db_);
        budget -= out.events;
    }
    if (budget > 0) {
        // A ledger row and its outbox record share their time, as an event's do.
        auto stmt = stmts_->use(Q::FoldLedger, "prune: folding ledger charges");
        stmt.bind(1, event_cutoff).bind(2, budget);
        if (auto r = stmt.run(); !r) return unexpected(r.error());
        out.ledger = sqlite3_changes(db_);
        budget -= out.ledger;
    }
    if (auto r = tx->commit(); !r) return unexpected(r.error());
    out.more = budget == 0;
    return out;
}

Expected<int> Store::schema_version() {
    auto version = single_int(*stmts_, Q::UserVersion, "schema_version");
    if (!version) return unexpected(version.error());
    return static_cast<int>(*version);
}

}  // namespace ecmgw::store
