// The gateway's SQLite store: readings, the outbox (gap-free sequence numbers),
// and later the ledger, balances and events. WAL mode, synchronous=FULL,
// explicit transactions; schema migrations keyed by PRAGMA user_version.
//
// One Store is one connection and is used by one thread at a time; threads that
// need the store open their own (WAL lets readers and one writer work together).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ecmgw/common/decimal.hpp"
#include "ecmgw/common/expected.hpp"

struct sqlite3;

namespace ecmgw::store {

// One decoded value of one meter at one time.
struct Reading {
    std::string meter;       // config meter id, e.g. "E-0101"
    std::int64_t ts_ms = 0;  // Unix time in milliseconds (UTC), when it was read
    std::string quantity;    // "energy_kwh", "voltage_a_v", ...
    Decimal value;           // exact, as the meter sent it
    friend bool operator==(const Reading&, const Reading&) = default;
};

// A record waiting to go up to the cloud. `seq` is gap-free and strictly
// increasing per gateway, across restarts and crashes.
struct OutboxRecord {
    std::int64_t seq = 0;
    std::string kind;  // "reading", later "ledger", "event", "ack"
    std::string body;  // JSON object text of the record (without gateway/seq)
    std::int64_t created_ms = 0;
};

struct OutboxStats {
    std::int64_t count = 0;
    std::int64_t first_seq = 0;  // 0 when empty
    std::int64_t last_seq = 0;   // 0 when empty
    std::int64_t bytes = 0;      // sum of body lengths
};

// Records the outbox cap dropped: every record of `kind` with first_seq <= seq <=
// last_seq (the oldest of that kind then waiting), except the store's own reports
// (events outbox_dropped and store_write_failed), which are never dropped.
struct OutboxDrop {
    std::string kind;
    std::int64_t first_seq = 0;
    std::int64_t last_seq = 0;
    std::int64_t count = 0;
    std::int64_t bytes = 0;  // sum of their bodies' bytes
};

// What one prune step deleted; `more` when it stopped at its row budget.
struct PruneResult {
    std::int64_t readings = 0;
    std::int64_t events = 0;
    std::int64_t ledger = 0;  // charge rows folded into their account's total
    bool more = false;
};

// Event types the store itself raises; the cap never drops them.
inline constexpr const char* kEventOutboxDropped = "outbox_dropped";
inline constexpr const char* kEventStoreWriteFailed = "store_write_failed";
// Raised by the uplink when it gives up on a record the broker will not take.
inline constexpr const char* kEventOutboxRecordRefused = "outbox_record_refused";

class Store;
namespace detail {
struct Statements;  // the per-connection prepared-statement cache (store.cpp)
}  // namespace detail

// An open write transaction (BEGIN IMMEDIATE). Nothing it wrote is visible or
// durable until commit(); destroying it uncommitted rolls everything back.
// It must not outlive the Store that began it; one at a time per Store.
class Transaction {
  public:
    Transaction(Transaction&&) noexcept;
    Transaction& operator=(Transaction&&) = delete;
    ~Transaction();

    Result insert_reading(const Reading& r);
    // Appends to the outbox with the next sequence number, which it returns.
    Expected<std::int64_t> append_outbox(std::string_view kind, std::string_view body,
                                         std::int64_t created_ms);
    // Records an event: a row of `events` (with the meter and account it is about,
    // when it is about one) and its outbox record (kind "event"), both with `body`.
    // Returns the record's seq.
    Expected<std::int64_t> append_event(std::int64_t ts_ms, std::string_view type,
                                        std::string_view body, std::string_view meter = {},
                                        std::string_view account = {});
    // Deletes the outbox record `seq` (one the broker refuses); false when there is none.
    Expected<bool> delete_outbox_record(std::int64_t seq);
    // When the outbox's bodies exceed `cap_bytes`, drops the oldest records until
    // they fit in `target_bytes` (<= cap_bytes): readings first, then summaries,
    // events, ledger entries and acknowledgements, each kind only once the kinds
    // before it are gone. Returns one OutboxDrop per kind dropped (none when
    // under the cap); the caller reports them in this transaction.
    Expected<std::vector<OutboxDrop>> trim_outbox(std::int64_t cap_bytes,
                                                  std::int64_t target_bytes);
    Result commit();

  private:
    friend class Store;
    explicit Transaction(Store& store);
    Store* store_;
    bool open_ = true;
    std::int64_t next_seq_ = 0;  // read at the first append, written once at commit
    bool seq_loaded_ = false;
    bool seq_dirty_ = false;
};

class Store {
  public:
    // Opens (creating when needed) the database at `path` and migrates it to
    // the current schema. The directory must exist.
    static Expected<std::unique_ptr<Store>> open(const std::filesystem::path& path);
    ~Store();
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    Expected<Transaction> begin();

    // Up to `max_records` outbox records with seq > `after_seq`, in seq order,
    // stopping before `max_bytes` of bodies would be exceeded (at least one record).
    Expected<std::vector<OutboxRecord>> peek_outbox(std::int64_t after_seq, std::size_t max_records,
                                                    std::size_t max_bytes);
    // Deletes every outbox record with seq <= `seq` (the broker acknowledged them).
    Result delete_outbox_through(std::int64_t seq);
    Expected<OutboxStats> outbox_stats();
    // The last sequence number ever assigned (0 for a new store).
    Expected<std::int64_t> last_seq();

    // Readings of `meter` (all meters when empty) with from_ms <= ts_ms < to_ms, oldest first.
    Expected<std::vector<Reading>> query_readings(std::string_view meter, std::int64_t from_ms,
                                                  std::int64_t to_ms, std::size_t limit = 100000);
    Expected<std::optional<Reading>> latest_reading(std::string_view meter,
                                                    std::string_view quantity);
    // The last reading of `meter`'s `quantity` taken before `before_ms`.
    Expected<std::optional<Reading>> reading_before(std::string_view meter,
                                                    std::string_view quantity,
                                                    std::int64_t before_ms);
    Expected<std::int64_t> reading_count();

    // Retention, one small transaction: deletes up to `max_rows` readings, events
    // and ledger charge rows older than `cutoff_ms` that no longer wait in the
    // outbox (charge rows are folded into ledger_folded, schema v5). Readings
    // are kept from the start of the first day not yet summarised, and the last
    // reading of each meter and quantity before the cutoff is kept, so that
    // reading_before(t) answers as before for every t >= the cutoff. Meters are
    // visited in turn across calls. Top-ups, refunds, adjustments and openings are
    // never pruned.
    Expected<PruneResult> prune(std::int64_t cutoff_ms, std::size_t max_rows);

    static constexpr int kSchemaVersion = 5;
    Expected<int> schema_version();

    sqlite3* handle() { return db_; }

  private:
    friend class Transaction;
    explicit Store(sqlite3* db);
    Result prepare_statements();
    Expected<std::int64_t> prune_readings_of(const std::string& meter, std::int64_t cutoff_ms,
                                             std::int64_t budget);
    sqlite3* db_;
    std::unique_ptr<detail::Statements> stmts_;
    std::string prune_meter_;  // where the next prune step resumes its turn of meters
};

}  // namespace ecmgw::store
