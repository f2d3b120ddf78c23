// Tests of the SQLite store: schema and migrations, transactions, the gap-free
// outbox sequence, exact decimals, two connections at once, and SIGKILL mid-write.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "ecmgw/store/store.hpp"
#include "temp_store.hpp"

namespace fs = std::filesystem;
using ecmgw::Decimal;
using ecmgw::store::OutboxRecord;
using ecmgw::store::Reading;
using ecmgw::store::Store;

using ecmgw::test::open_store;
using ecmgw::test::TempDir;

namespace {

Reading make_reading(int i) {
    return Reading{"E-" + std::to_string(100 + i % 7), 1'700'000'000'000 + i, "energy_kwh",
                   Decimal{12345 + i, 2}};
}

std::string body_of(int i) { return R"({"i":)" + std::to_string(i) + "}"; }

// One integer from raw SQL on the store's own connection.
std::int64_t scalar(Store& store, const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    REQUIRE(sqlite3_prepare_v2(store.handle(), sql, -1, &stmt, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
    const std::int64_t value = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return value;
}

std::string scalar_text(Store& store, const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    REQUIRE(sqlite3_prepare_v2(store.handle(), sql, -1, &stmt, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
    std::string value = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
    return value;
}

int exec_raw(Store& store, const char* sql) {
    return sqlite3_exec(store.handle(), sql, nullptr, nullptr, nullptr);
}

// Commits one transaction of `n` readings, each with its outbox record; returns the seqs.
std::vector<std::int64_t> commit_batch(Store& store, int first, int n) {
    std::vector<std::int64_t> seqs;
    auto txn = store.begin();
    REQUIRE(txn.has_value());
    for (int i = first; i < first + n; ++i) {
        REQUIRE(txn->insert_reading(make_reading(i)).has_value());
        auto seq = txn->append_outbox("reading", body_of(i), 1000 + i);
        REQUIRE(seq.has_value());
        seqs.push_back(*seq);
    }
    auto committed = txn->commit();
    INFO((committed ? std::string() : committed.error().message));
    REQUIRE(committed.has_value());
    return seqs;
}

std::vector<OutboxRecord> peek_all(Store& store, std::int64_t after = 0) {
    auto records = store.peek_outbox(after, std::numeric_limits<std::size_t>::max(),
                                     std::numeric_limits<std::size_t>::max());
    REQUIRE(records.has_value());
    return *records;
}

void check_gap_free_from(const std::vector<OutboxRecord>& records, std::int64_t first) {
    for (std::size_t i = 0; i < records.size(); ++i)
        REQUIRE(records[i].seq == first + static_cast<std::int64_t>(i));
}

}  // namespace

TEST_CASE("open creates the schema with durable pragmas, and reopening keeps it") {
    TempDir dir;
    {
        auto store = open_store(dir.db());
        CHECK(*store->schema_version() == Store::kSchemaVersion);
        CHECK(*store->schema_version() == 5);
        CHECK(scalar_text(*store, "PRAGMA journal_mode") == "wal");
        CHECK(scalar(*store, "PRAGMA synchronous") == 2);  // FULL
        CHECK(scalar(*store, "PRAGMA foreign_keys") == 1);
        CHECK(scalar(*store,
                     "SELECT count(*) FROM sqlite_schema WHERE name IN "
                     "('readings', 'outbox', 'sequence', 'readings_meter_ts')") == 4);
        CHECK(*store->last_seq() == 0);
        CHECK(*store->reading_count() == 0);
        commit_batch(*store, 0, 3);
    }
    auto store = open_store(dir.db());
    CHECK(*store->schema_version() == 5);
    CHECK(*store->reading_count() == 3);
    CHECK(*store->last_seq() == 3);
    CHECK(scalar_text(*store, "PRAGMA integrity_check") == "ok");
}

TEST_CASE("a database written by a newer build is refused with a clear error") {
    TempDir dir;
    {
        auto store = open_store(dir.db());
        REQUIRE(exec_raw(*store, "PRAGMA user_version = 99") == SQLITE_OK);
    }
    auto refused = Store::open(dir.db());
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().message.find("schema version 99") != std::string::npos);
    CHECK(refused.error().message.find("newer") != std::string::npos);
}

TEST_CASE("opening fails cleanly for a missing directory or a file that is not a database") {
    TempDir dir;
    auto missing = Store::open(dir.db().parent_path() / "no-such-dir" / "x.db");
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error().message.find("opening") != std::string::npos);

    const fs::path garbage = dir.db().parent_path() / "garbage.db";
    {
        std::FILE* f = std::fopen(garbage.c_str(), "w");
        REQUIRE(f != nullptr);
        for (int i = 0; i < 200; ++i) std::fputs("this is not an SQLite database\n", f);
        std::fclose(f);
    }
    auto not_db = Store::open(garbage);
    REQUIRE_FALSE(not_db.has_value());
    CHECK(not_db.error().message.find("not a database") != std::string::npos);
}

TEST_CASE("1000 readings and outbox records in one transaction are all visible after commit") {
    TempDir dir;
    auto store = open_store(dir.db());
    const auto seqs = commit_batch(*store, 0, 1000);
    CHECK(seqs.front() == 1);
    CHECK(seqs.back() == 1000);
    CHECK(*store->reading_count() == 1000);
    CHECK(*store->last_seq() == 1000);
    const auto stats = *store->outbox_stats();
    CHECK(stats.count == 1000);
    CHECK(stats.first_seq == 1);
    CHECK(stats.last_seq == 1000);

    auto readings = store->query_readings("", 0, std::numeric_limits<std::int64_t>::max());
    REQUIRE(readings.has_value());
    REQUIRE(readings->size() == 1000);
    for (int i = 0; i < 1000; ++i)
        CHECK((*readings)[static_cast<std::size_t>(i)] == make_reading(i));
}

TEST_CASE("a transaction dropped without commit leaves nothing behind") {
    TempDir dir;
    auto store = open_store(dir.db());
    commit_batch(*store, 0, 5);
    {
        auto txn = store->begin();
        REQUIRE(txn.has_value());
        for (int i = 5; i < 50; ++i) {
            REQUIRE(txn->insert_reading(make_reading(i)).has_value());
            REQUIRE(txn->append_outbox("reading", body_of(i), 0).has_value());
        }
    }
    CHECK(sqlite3_get_autocommit(store->handle()) != 0);  // no transaction left open
    CHECK(*store->reading_count() == 5);
    CHECK(store->outbox_stats()->count == 5);
    CHECK(*store->last_seq() == 5);
    // The numbers the dropped transaction used were never handed out.
    CHECK(commit_batch(*store, 50, 1).front() == 6);
}

TEST_CASE("a transaction refuses use after commit or move, and reports which operation") {
    TempDir dir;
    auto store = open_store(dir.db());
    auto txn = store->begin();
    REQUIRE(txn.has_value());
    // One connection holds at most one transaction.
    auto second = store->begin();
    REQUIRE_FALSE(second.has_value());
    CHECK(second.error().message.find("begin") != std::string::npos);

    ecmgw::store::Transaction moved(std::move(*txn));
    auto stale = txn->insert_reading(make_reading(0));
    REQUIRE_FALSE(stale.has_value());
    CHECK(stale.error().message.find("insert_reading") != std::string::npos);
    REQUIRE(moved.append_outbox("reading", "{}", 0).has_value());
    REQUIRE(moved.commit().has_value());
    CHECK_FALSE(moved.commit().has_value());
    CHECK_FALSE(moved.append_outbox("reading", "{}", 0).has_value());
    CHECK(*store->last_seq() == 1);
}

TEST_CASE("a failed statement leaves the transaction usable and consumes no sequence number") {
    TempDir dir;
    auto store = open_store(dir.db());
    auto txn = store->begin();
    REQUIRE(txn.has_value());
    REQUIRE(*txn->append_outbox("reading", "{}", 0) == 1);

    Reading bad = make_reading(0);
    bad.meter.clear();
    auto refused = txn->insert_reading(bad);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().message.find("insert_reading") != std::string::npos);
    CHECK(refused.error().message.find("CHECK constraint failed") != std::string::npos);

    auto no_kind = txn->append_outbox("", "{}", 0);
    REQUIRE_FALSE(no_kind.has_value());
    CHECK(no_kind.error().message.find("append_outbox") != std::string::npos);

    REQUIRE(*txn->append_outbox("reading", "", 0) == 2);  // an empty body is '' not NULL
    REQUIRE(txn->commit().has_value());
    CHECK(*store->last_seq() == 2);
    check_gap_free_from(peek_all(*store), 1);
}

TEST_CASE("outbox records come back in order with strictly increasing, gap-free seqs") {
    TempDir dir;
    auto store = open_store(dir.db());
    int next = 0;
    for (int size : {1, 7, 1, 33, 2, 100}) {
        const auto seqs = commit_batch(*store, next, size);
        for (int k = 0; k < size; ++k) CHECK(seqs[static_cast<std::size_t>(k)] == next + k + 1);
        next += size;
    }
    const auto records = peek_all(*store);
    REQUIRE(records.size() == static_cast<std::size_t>(next));
    check_gap_free_from(records, 1);
    for (int i = 0; i < next; ++i) {
        const auto& r = records[static_cast<std::size_t>(i)];
        CHECK(r.kind == "reading");
        CHECK(r.body == body_of(i));
        CHECK(r.created_ms == 1000 + i);
    }
}

TEST_CASE("seq continues after reopening and after the outbox was emptied") {
    TempDir dir;
    {
        auto store = open_store(dir.db());
        commit_batch(*store, 0, 10);
    }
    {
        auto store = open_store(dir.db());
        CHECK(commit_batch(*store, 10, 1).front() == 11);
        REQUIRE(store->delete_outbox_through(11).has_value());
        const auto stats = *store->outbox_stats();
        CHECK(stats.count == 0);
        CHECK(stats.first_seq == 0);
        CHECK(stats.last_seq == 0);
        CHECK(*store->last_seq() == 11);  // the counter, not the table, remembers
    }
    auto store = open_store(dir.db());
    CHECK(*store->last_seq() == 11);
    CHECK(commit_batch(*store, 11, 2) == std::vector<std::int64_t>{12, 13});
    // The counter refuses to go backwards even through raw SQL.
    CHECK(exec_raw(*store, "UPDATE sequence SET value = 3 WHERE name = 'outbox'") != SQLITE_OK);
    CHECK(exec_raw(*store, "DELETE FROM sequence") != SQLITE_OK);
    CHECK(*store->last_seq() == 13);
}

TEST_CASE("peek_outbox respects after_seq, max_records and max_bytes") {
    TempDir dir;
    auto store = open_store(dir.db());
    {
        auto txn = store->begin();
        REQUIRE(txn.has_value());
        for (int i = 0; i < 10; ++i)  // bodies of 10 bytes each
            REQUIRE(txn->append_outbox("event", std::string(10, static_cast<char>('a' + i)), i)
                        .has_value());
        REQUIRE(txn->commit().has_value());
    }
    auto seqs_of = [](const std::vector<OutboxRecord>& records) {
        std::vector<std::int64_t> seqs;
        for (const auto& r : records) seqs.push_back(r.seq);
        return seqs;
    };
    using V = std::vector<std::int64_t>;
    CHECK(seqs_of(*store->peek_outbox(0, 3, 1000)) == V{1, 2, 3});
    CHECK(seqs_of(*store->peek_outbox(7, 100, 1000)) == V{8, 9, 10});
    CHECK(seqs_of(*store->peek_outbox(10, 100, 1000)).empty());
    CHECK(seqs_of(*store->peek_outbox(2, 100, 30)) == V{3, 4, 5});  // exactly fits
    CHECK(seqs_of(*store->peek_outbox(2, 100, 29)) == V{3, 4});     // would exceed
    CHECK(seqs_of(*store->peek_outbox(2, 100, 1)) == V{3});         // at least one
    CHECK(seqs_of(*store->peek_outbox(2, 100, 0)) == V{3});
    CHECK(seqs_of(*store->peek_outbox(2, 0, 1000)).empty());
    CHECK((*store->peek_outbox(4, 1, 100)).front().body == std::string(10, 'e'));
    CHECK(store->outbox_stats()->bytes == 100);

    REQUIRE(store->delete_outbox_through(4).has_value());
    CHECK(seqs_of(*store->peek_outbox(0, 2, 1000)) == V{5, 6});
    CHECK(store->outbox_stats()->first_seq == 5);
}

TEST_CASE("outbox byte counts are bytes, not characters") {
    TempDir dir;
    auto store = open_store(dir.db());
    auto txn = store->begin();
    REQUIRE(txn.has_value());
    const std::string body = "{\"m\":\"\xE7\x94\xB5\xE8\x83\xBD\"}";  // two 3-byte characters
    REQUIRE(txn->append_outbox("event", body, 0).has_value());
    REQUIRE(txn->commit().has_value());
    CHECK(store->outbox_stats()->bytes == static_cast<std::int64_t>(body.size()));
    CHECK(peek_all(*store).front().body == body);
}

TEST_CASE("decimal values round-trip exactly, scale and sign included") {
    TempDir dir;
    auto store = open_store(dir.db());
    const std::vector<Decimal> values = {
        {12345, 2},
        {-500, 3},
        {0, 0},
        {0, 4},
        {-1, 0},
        {5, 30},
        {std::numeric_limits<std::int64_t>::min(), 0},
        {std::numeric_limits<std::int64_t>::max(), 18},
    };
    {
        auto txn = store->begin();
        REQUIRE(txn.has_value());
        for (std::size_t i = 0; i < values.size(); ++i)
            REQUIRE(txn->insert_reading(Reading{"D", static_cast<std::int64_t>(i), "q", values[i]})
                        .has_value());
        REQUIRE(txn->commit().has_value());
    }
    auto back = store->query_readings("D", 0, 100);
    REQUIRE(back.has_value());
    REQUIRE(back->size() == values.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
        CAPTURE(values[i].to_string());
        CHECK((*back)[i].value.mantissa == values[i].mantissa);
        CHECK((*back)[i].value.scale == values[i].scale);
    }

    // Text as a meter sends it, leading zeros and all, parses to the exact value.
    REQUIRE(exec_raw(*store,
                     "INSERT INTO readings (meter, ts_ms, quantity, value) "
                     "VALUES ('Z', 1, 'q', '000123.45'), ('Z', 2, 'q', '-007.50')") == SQLITE_OK);
    auto raw = store->query_readings("Z", 0, 100);
    REQUIRE(raw.has_value());
    REQUIRE(raw->size() == 2);
    CHECK((*raw)[0].value.mantissa == 12345);
    CHECK((*raw)[0].value.scale == 2);
    CHECK((*raw)[1].value.mantissa == -750);
    CHECK((*raw)[1].value.scale == 2);

    // The schema refuses text that is not an exact decimal.
    for (const char* bad : {"1e5", "12a", ".5", "5.", "1.2.3", "1-2", "", "-", " 1", "0x10"}) {
        CAPTURE(bad);
        const std::string sql =
            std::string(
                "INSERT INTO readings (meter, ts_ms, quantity, value) VALUES ('Z', 3, 'q', '") +
            bad + "')";
        CHECK(exec_raw(*store, sql.c_str()) != SQLITE_OK);
    }
}

TEST_CASE(
    "query_readings filters by meter and half-open time range; latest_reading picks the newest") {
    TempDir dir;
    auto store = open_store(dir.db());
    {
        auto txn = store->begin();
        REQUIRE(txn.has_value());
        for (const Reading& r : std::vector<Reading>{
                 {"A", 100, "energy_kwh", {1000, 2}},
                 {"B", 150, "energy_kwh", {7, 0}},
                 {"A", 200, "voltage_a_v", {2301, 1}},
                 {"A", 300, "energy_kwh", {1050, 2}},
                 {"A", 400, "voltage_a_v", {2299, 1}},
             })
            REQUIRE(txn->insert_reading(r).has_value());
        REQUIRE(txn->commit().has_value());
    }
    auto a = store->query_readings("A", 100, 400);
    REQUIRE(a.has_value());
    REQUIRE(a->size() == 3);
    CHECK((*a)[0].ts_ms == 100);
    CHECK((*a)[2].ts_ms == 300);
    CHECK(store->query_readings("A", 0, 1000, 2)->size() == 2);
    CHECK(store->query_readings("A", 0, 1000, 0)->empty());
    CHECK(store->query_readings("", 0, 1000)->size() == 5);
    CHECK(store->query_readings("", 150, 151)->front().meter == "B");

    auto latest = store->latest_reading("A", "energy_kwh");
    REQUIRE(latest.has_value());
    REQUIRE(latest->has_value());
    CHECK((*latest)->ts_ms == 300);
    CHECK((*latest)->value == Decimal{105, 1});
    CHECK_FALSE(store->latest_reading("C", "energy_kwh")->has_value());
    CHECK(*store->reading_count() == 5);
}

TEST_CASE("two connections: the ingest writer and the uplink reader/deleter interleave") {
    TempDir dir;
    auto ingest = open_store(dir.db());
    auto uplink = open_store(dir.db());

    // Uncommitted writes are invisible to the other connection.
    auto txn = ingest->begin();
    REQUIRE(txn.has_value());
    REQUIRE(txn->insert_reading(make_reading(0)).has_value());
    REQUIRE(*txn->append_outbox("reading", body_of(0), 0) == 1);
    CHECK(peek_all(*uplink).empty());
    CHECK(*uplink->reading_count() == 0);
    REQUIRE(txn->commit().has_value());
    CHECK(peek_all(*uplink).size() == 1);

    // The uplink acknowledges what it saw while the writer keeps appending.
    REQUIRE(uplink->delete_outbox_through(1).has_value());
    CHECK(commit_batch(*ingest, 1, 3) == std::vector<std::int64_t>{2, 3, 4});
    const auto rest = peek_all(*uplink, 1);
    check_gap_free_from(rest, 2);
    REQUIRE(rest.size() == 3);
    REQUIRE(uplink->delete_outbox_through(rest.back().seq).has_value());
    CHECK(ingest->outbox_stats()->count == 0);
    CHECK(*uplink->last_seq() == 4);
    CHECK(commit_batch(*ingest, 4, 1).front() == 5);
}

TEST_CASE("two connections on two threads: everything written is seen once, in order") {
    TempDir dir;
    auto ingest = open_store(dir.db());
    auto uplink = open_store(dir.db());
    constexpr int kTotal = 1500;
    std::mutex failures_mutex;
    std::vector<std::string> failures;
    std::atomic<bool> abort{false};
    auto report = [&](std::string what) {
        std::lock_guard lock(failures_mutex);
        failures.push_back(std::move(what));
        abort = true;
    };

    std::thread writer([&] {
        int written = 0;
        for (int b = 0; written < kTotal && !abort; ++b) {
            const int n = std::min(1 + (b * 7) % 13, kTotal - written);
            auto t = ingest->begin();
            if (!t) return report(t.error().message);
            for (int i = written; i < written + n; ++i) {
                if (auto r = t->insert_reading(make_reading(i)); !r)
                    return report(r.error().message);
                if (auto s = t->append_outbox("reading", body_of(i), i); !s)
                    return report(s.error().message);
            }
            if (auto r = t->commit(); !r) return report(r.error().message);
            written += n;
        }
    });
    std::thread reader([&] {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
        std::int64_t acked = 0;
        while (acked < kTotal && !abort) {
            if (std::chrono::steady_clock::now() > deadline) return report("uplink timed out");
            auto batch = uplink->peek_outbox(acked, 25, 600);
            if (!batch) return report(batch.error().message);
            if (batch->empty()) {
                std::this_thread::yield();
                continue;
            }
            for (const auto& rec : *batch) {
                if (rec.seq != acked + 1)
                    return report("seq " + std::to_string(rec.seq) + " after " +
                                  std::to_string(acked));
                if (rec.body != body_of(static_cast<int>(acked)))
                    return report("wrong body at seq " + std::to_string(rec.seq));
                acked = rec.seq;
            }
            if (auto r = uplink->delete_outbox_through(acked); !r) return report(r.error().message);
        }
    });
    writer.join();
    reader.join();
    for (const auto& f : failures) FAIL_CHECK(f);
    CHECK(failures.empty());
    CHECK(*ingest->last_seq() == kTotal);
    CHECK(ingest->outbox_stats()->count == 0);
    CHECK(*uplink->reading_count() == kTotal);
}

// ------------------------------------------------------------------ crash test

namespace {

// The child: appends batches of readings + outbox records forever and reports
// each committed last seq through the pipe. Non-blocking writes: a full pipe
// must never pause it, so that the SIGKILL lands in the middle of its work.
[[noreturn]] void write_forever(const fs::path& db, int report_fd, unsigned seed) {
    auto opened = Store::open(db);
    if (!opened) _exit(2);
    Store& store = **opened;
    std::mt19937 rng(seed);
    for (int i = 0;;) {
        auto txn = store.begin();
        if (!txn) _exit(3);
        const int n = 1 + static_cast<int>(rng() % 64);
        std::int64_t last = 0;
        for (int k = 0; k < n; ++k, ++i) {
            if (!txn->insert_reading(make_reading(i))) _exit(4);
            auto seq = txn->append_outbox("reading", body_of(i), i);
            if (!seq) _exit(5);
            last = *seq;
        }
        if (!txn->commit()) _exit(6);
        [[maybe_unused]] const auto written = write(report_fd, &last, sizeof last);
    }
}

// Waits (without sleeping blind) for the next report; 0 when the pipe closed.
std::int64_t next_report(int fd) {
    pollfd p{fd, POLLIN, 0};
    const int ready = poll(&p, 1, 60'000);
    REQUIRE_MESSAGE(ready == 1, "the writer child reported no progress within 60 s");
    std::int64_t seq = 0;
    const auto got = read(fd, &seq, sizeof seq);
    REQUIRE((got == 0 || got == static_cast<ssize_t>(sizeof seq)));
    return got == 0 ? 0 : seq;
}

// The invariants a crash must never break; returns the counter.
std::int64_t check_invariants(const fs::path& db, std::int64_t acknowledged) {
    auto store = open_store(db);
    CHECK(scalar_text(*store, "PRAGMA integrity_check") == "ok");
    const std::int64_t counter = *store->last_seq();
    const auto stats = *store->outbox_stats();
    CHECK(counter >= acknowledged);  // every commit the child saw succeed survived
    CHECK(stats.first_seq == 1);
    CHECK(stats.last_seq == counter);
    CHECK(stats.count == stats.last_seq - stats.first_seq + 1);  // gap-free
    CHECK(scalar(*store,
                 "SELECT count(*) FROM outbox o WHERE seq > 1 AND NOT EXISTS "
                 "(SELECT 1 FROM outbox p WHERE p.seq = o.seq - 1)") == 0);
    CHECK(*store->reading_count() ==
          scalar(*store, "SELECT count(*) FROM outbox WHERE kind = 'reading'"));
    return counter;
}

}  // namespace

TEST_CASE("SIGKILL in the middle of writing never breaks the invariants") {
    TempDir dir;
    open_store(dir.db());  // create the schema before the first child
    std::mt19937 rng(20240611);
    std::int64_t counter = 0;
    for (int round = 0; round < 5; ++round) {
        CAPTURE(round);
        int fds[2];
        REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
        REQUIRE(fcntl(fds[1], F_SETFL, O_NONBLOCK) == 0);
        const pid_t child = fork();
        REQUIRE(child >= 0);
        if (child == 0) {
            close(fds[0]);
            write_forever(dir.db(), fds[1], static_cast<unsigned>(round));
        }
        close(fds[1]);

        // Let it commit a varying number of batches, then kill it at once.
        const int batches = 3 + static_cast<int>(rng() % 150);
        std::int64_t acknowledged = 0;
        for (int b = 0; b < batches; ++b) {
            const std::int64_t seq = next_report(fds[0]);
            REQUIRE_MESSAGE(seq != 0, "the writer child died on its own");
            acknowledged = seq;
        }
        REQUIRE(kill(child, SIGKILL) == 0);
        int status = 0;
        REQUIRE(waitpid(child, &status, 0) == child);
        CHECK(WIFSIGNALED(status));
        // Commits reported after our count also happened; count them as acknowledged.
        for (std::int64_t seq; (seq = next_report(fds[0])) != 0;) acknowledged = seq;
        close(fds[0]);

        CHECK(acknowledged > counter);  // it continued the sequence
        const std::int64_t after = check_invariants(dir.db(), acknowledged);
        CHECK(after >= counter);
        counter = after;
    }
}
