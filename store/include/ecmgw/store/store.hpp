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

    static constexpr int kSchemaVersion = 3;
    Expected<int> schema_version();

    sqlite3* handle() { return db_; }

  private:
    friend class Transaction;
    explicit Store(sqlite3* db);
    Result prepare_statements();
    sqlite3* db_;
    std::unique_ptr<detail::Statements> stmts_;
};

}  // namespace ecmgw::store
