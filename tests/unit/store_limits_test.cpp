// Tests of the store's bounds: the outbox's size counter (schema v4), the outbox
// cap (trim_outbox: which records go, and what the drop says), and retention
// (prune: what goes, what stays for the prepaid side, batches).
#include <doctest/doctest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "ecmgw/store/prepaid_tables.hpp"
#include "ecmgw/store/store.hpp"
#include "temp_store.hpp"

namespace fs = std::filesystem;
using ecmgw::Decimal;
using ecmgw::store::LedgerEntry;
using ecmgw::store::OutboxDrop;
using ecmgw::store::OutboxRecord;
using ecmgw::store::PrepaidTables;
using ecmgw::store::Reading;
using ecmgw::store::Store;

using ecmgw::test::open_store;
using ecmgw::test::TempDir;

namespace {

std::int64_t scalar(Store& store, const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    REQUIRE(sqlite3_prepare_v2(store.handle(), sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
    const std::int64_t value = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return value;
}

void exec_ok(Store& store, const std::string& sql) {
    char* error = nullptr;
    const int rc = sqlite3_exec(store.handle(), sql.c_str(), nullptr, nullptr, &error);
    INFO(sql << ": " << (error ? error : ""));
    sqlite3_free(error);
    REQUIRE(rc == SQLITE_OK);
}

// The outbox's real size, summed the slow way.
std::int64_t summed_bytes(Store& store) {
    return scalar(store, "SELECT coalesce(sum(length(CAST(body AS BLOB))), 0) FROM outbox");
}

// A body of exactly `bytes` bytes (JSON, as every body is).
std::string body(std::size_t bytes, const std::string& tag = "x") {
    std::string out = R"({"t":")" + tag + R"(","p":")";
    REQUIRE(bytes >= out.size() + 2);
    out.append(bytes - out.size() - 2, 'p');
    return out + "\"}";
}

// Appends one record per kind in `kinds`, each with a 100-byte body; returns the seqs.
std::vector<std::int64_t> append_kinds(Store& store, const std::vector<std::string>& kinds) {
    std::vector<std::int64_t> seqs;
    auto tx = store.begin();
    REQUIRE(tx.has_value());
    for (const auto& kind : kinds) {
        auto seq = tx->append_outbox(kind, body(100, kind), 1000);
        REQUIRE(seq.has_value());
        seqs.push_back(*seq);
    }
    REQUIRE(tx->commit().has_value());
    return seqs;
}

std::vector<OutboxRecord> outbox(Store& store) {
    auto records = store.peek_outbox(0, std::numeric_limits<std::size_t>::max(),
                                     std::numeric_limits<std::size_t>::max());
    REQUIRE(records.has_value());
    return *records;
}

std::vector<OutboxDrop> trim(Store& store, std::int64_t cap, std::int64_t target) {
    auto tx = store.begin();
    REQUIRE(tx.has_value());
    auto drops = tx->trim_outbox(cap, target);
    INFO((drops ? std::string() : drops.error().message));
    REQUIRE(drops.has_value());
    REQUIRE(tx->commit().has_value());
    return *drops;
}

// Every seq from 1 to last_seq is either still in the outbox or inside a drop
// that names its kind: the cloud can tell each missing seq from a loss.
void check_accounted_for(Store& store, const std::vector<OutboxDrop>& drops,
                         const std::map<std::int64_t, std::string>& kind_of) {
    std::set<std::int64_t> present;
    for (const auto& r : outbox(store)) present.insert(r.seq);
    for (const auto& [seq, kind] : kind_of) {
        if (present.count(seq) != 0) continue;
        bool covered = false;
        for (const auto& d : drops)
            covered = covered || (d.kind == kind && d.first_seq <= seq && seq <= d.last_seq);
        INFO("seq " << seq << " (" << kind << ") is neither waiting nor in a drop");
        CHECK(covered);
    }
    for (const auto& d : drops) {
        std::int64_t n = 0;
        for (const auto& [seq, kind] : kind_of)
            if (kind == d.kind && d.first_seq <= seq && seq <= d.last_seq) {
                ++n;
                CHECK(present.count(seq) == 0);
            }
        CHECK(n == d.count);
    }
}

Reading reading(const std::string& meter, std::int64_t ts, const std::string& quantity,
                std::int64_t value) {
    return Reading{meter, ts, quantity, Decimal{value, 2}};
}

void insert_readings(Store& store, const std::vector<Reading>& readings) {
    auto tx = store.begin();
    REQUIRE(tx.has_value());
    for (const auto& r : readings) REQUIRE(tx->insert_reading(r).has_value());
    REQUIRE(tx->commit().has_value());
}

constexpr std::int64_t kDay = 86'400'000;

}  // namespace

TEST_CASE("the outbox's size counter follows appends, deletes and rollbacks") {
    TempDir dir;
    auto store = open_store(dir.db());
    CHECK(store->outbox_stats()->bytes == 0);
    append_kinds(*store, {"reading", "ledger", "reading"});
    {
        auto tx = store->begin();
        REQUIRE(tx.has_value());
        REQUIRE(tx->append_outbox("reading", body(500), 1).has_value());
        // rolled back: not counted
    }
    auto tx = store->begin();
    REQUIRE(
        tx->append_outbox("event", "{\"événement\":\"é\"}", 1).has_value());  // bytes, not chars
    REQUIRE(tx->commit().has_value());
    auto stats = *store->outbox_stats();
    CHECK(stats.count == 4);
    CHECK(stats.first_seq == 1);
    CHECK(stats.last_seq == 4);
    CHECK(stats.bytes == summed_bytes(*store));
    CHECK(stats.bytes ==
          300 + static_cast<std::int64_t>(std::string("{\"événement\":\"é\"}").size()));
    REQUIRE(store->delete_outbox_through(2).has_value());
    stats = *store->outbox_stats();
    CHECK(stats.count == 2);
    CHECK(stats.first_seq == 3);
    CHECK(stats.bytes == summed_bytes(*store));
    REQUIRE(store->delete_outbox_through(4).has_value());
    stats = *store->outbox_stats();
    CHECK(stats.count == 0);
    CHECK(stats.bytes == 0);
    CHECK(stats.first_seq == 0);
}

TEST_CASE("migrations 4 and 5 count the outbox a version 3 database already holds") {
    TempDir dir;
    {
        auto store = open_store(dir.db());
        append_kinds(*store, {"reading", "reading"});
        // Back to version 3, as a box in the field still is, with more waiting.
        exec_ok(
            *store,
            "DROP TRIGGER ledger_folds_what_is_deleted; DROP TRIGGER ledger_folded_never_deleted;"
            " DROP TABLE ledger_folded; DROP INDEX ledger_foldable;"
            " DROP TRIGGER ledger_never_deleted;"
            " CREATE TRIGGER ledger_never_deleted BEFORE DELETE ON ledger"
            " BEGIN SELECT RAISE(ABORT, 'ledger rows are never deleted'); END;"
            " DROP TRIGGER outbox_usage_insert; DROP TRIGGER outbox_usage_delete;"
            " DROP TRIGGER outbox_usage_update; DROP TRIGGER outbox_usage_never_deleted;"
            " DROP TABLE outbox_usage; PRAGMA user_version = 3;");
        exec_ok(*store, "INSERT INTO outbox VALUES (3, 'ledger', '" + body(250) + "', 1)");
    }
    auto store = open_store(dir.db());
    CHECK(*store->schema_version() == Store::kSchemaVersion);
    const auto stats = *store->outbox_stats();
    CHECK(stats.count == 3);
    CHECK(stats.bytes == 450);
    CHECK(stats.bytes == summed_bytes(*store));
}

TEST_CASE("under its cap the outbox is left alone") {
    TempDir dir;
    auto store = open_store(dir.db());
    append_kinds(*store, {"reading", "reading", "ledger"});
    CHECK(trim(*store, 300, 200).empty());
    CHECK(outbox(*store).size() == 3);
}

TEST_CASE("over its cap the oldest readings go first and the drop names them exactly") {
    TempDir dir;
    auto store = open_store(dir.db());
    std::map<std::int64_t, std::string> kind_of;
    const std::vector<std::string> pattern = {"reading", "reading", "ledger", "reading",
                                              "event",   "reading", "ack",    "summary"};
    for (int round = 0; round < 10; ++round) {
        const auto seqs = append_kinds(*store, pattern);
        for (std::size_t i = 0; i < seqs.size(); ++i) kind_of[seqs[i]] = pattern[i];
    }
    REQUIRE(store->outbox_stats()->bytes == 8000);
    // 25 readings must go to reach 5500 bytes: seqs 1, 2, 4, 6, 9, ... the 25th reading.
    const auto drops = trim(*store, 7999, 5500);
    REQUIRE(drops.size() == 1);
    CHECK(drops[0].kind == "reading");
    CHECK(drops[0].first_seq == 1);
    CHECK(drops[0].count == 25);
    CHECK(drops[0].bytes == 2500);
    CHECK(kind_of[drops[0].last_seq] == "reading");
    CHECK(store->outbox_stats()->bytes == 5500);
    CHECK(store->outbox_stats()->bytes == summed_bytes(*store));
    // Nothing but readings went: every ledger entry, event, ack and summary waits.
    std::map<std::string, int> left;
    for (const auto& r : outbox(*store)) ++left[r.kind];
    CHECK(left["ledger"] == 10);
    CHECK(left["ack"] == 10);
    CHECK(left["event"] == 10);
    CHECK(left["summary"] == 10);
    CHECK(left["reading"] == 15);
    check_accounted_for(*store, drops, kind_of);
    // The seq counter is untouched: the next record follows the last one.
    CHECK(*store->last_seq() == 80);
}

TEST_CASE(
    "with no readings left the cap takes summaries, events, ledger, then acks, "
    "but never the store's own reports") {
    TempDir dir;
    auto store = open_store(dir.db());
    std::map<std::int64_t, std::string> kind_of;
    const std::vector<std::string> pattern = {"ack", "ledger", "event", "summary", "reading"};
    for (int round = 0; round < 4; ++round) {
        const auto seqs = append_kinds(*store, pattern);
        for (std::size_t i = 0; i < seqs.size(); ++i) kind_of[seqs[i]] = pattern[i];
    }
    std::int64_t report_seq = 0;
    {
        auto tx = store->begin();
        auto seq = tx->append_event(
            5, ecmgw::store::kEventOutboxDropped,
            R"({"details":{"count":1},"event":"outbox_dropped","ts":"1970-01-01T00:00:00.005Z"})");
        REQUIRE(seq.has_value());
        report_seq = *seq;
        REQUIRE(tx->commit().has_value());
        kind_of[report_seq] = "event";
    }
    CHECK(scalar(*store, "SELECT count(*) FROM events WHERE type = 'outbox_dropped'") == 1);
    const std::int64_t report_bytes = summed_bytes(*store) - 2000;

    // Readings (4), summaries (4), events (4) and one ledger entry: 1300 bytes.
    auto drops = trim(*store, 1000, 700 + report_bytes);
    REQUIRE(drops.size() == 4);
    CHECK(drops[0].kind == "reading");
    CHECK(drops[0].count == 4);
    CHECK(drops[1].kind == "summary");
    CHECK(drops[1].count == 4);
    CHECK(drops[2].kind == "event");
    CHECK(drops[2].count == 4);
    CHECK(drops[3].kind == "ledger");
    CHECK(drops[3].count == 1);
    CHECK(drops[3].first_seq == 2);
    CHECK(drops[3].last_seq == 2);
    check_accounted_for(*store, drops, kind_of);
    // The drop report stays although it is an event older than the events dropped.
    bool report_left = false;
    for (const auto& r : outbox(*store)) report_left = report_left || r.seq == report_seq;
    CHECK(report_left);

    // Down to nothing but what is never dropped: acks go last, the report never.
    drops = trim(*store, 1, 0);
    REQUIRE(drops.size() == 2);
    CHECK(drops[0].kind == "ledger");
    CHECK(drops[0].count == 3);
    CHECK(drops[1].kind == "ack");
    CHECK(drops[1].count == 4);
    const auto left = outbox(*store);
    REQUIRE(left.size() == 1);
    CHECK(left[0].seq == report_seq);
    CHECK(store->outbox_stats()->bytes == summed_bytes(*store));
}

TEST_CASE("a drop in a transaction that is rolled back drops nothing") {
    TempDir dir;
    auto store = open_store(dir.db());
    append_kinds(*store, {"reading", "reading", "reading"});
    {
        auto tx = store->begin();
        auto drops = tx->trim_outbox(100, 0);
        REQUIRE(drops.has_value());
        CHECK(drops->size() == 1);
    }
    CHECK(outbox(*store).size() == 3);
    CHECK(store->outbox_stats()->bytes == 300);
}

TEST_CASE("prune deletes old acknowledged readings but keeps each quantity's last one") {
    TempDir dir;
    auto store = open_store(dir.db());
    const std::int64_t now = 400 * kDay;
    const std::int64_t cutoff = now - 90 * kDay;
    std::vector<Reading> rows;
    // Three meters, two quantities, one reading every 6 hours for 200 days.
    for (const char* meter : {"E-1", "E-2", "W-1"})
        for (std::int64_t t = 200 * kDay; t < now; t += kDay / 4)
            for (const char* q : {"energy_kwh", "voltage_a_v"})
                rows.push_back(reading(meter, t, q, t / 1000));
    insert_readings(*store, rows);
    const std::int64_t total = *store->reading_count();
    REQUIRE(total == 3 * 800 * 2);
    const std::int64_t old_rows =
        scalar(*store, "SELECT count(*) FROM readings WHERE ts_ms < " + std::to_string(cutoff));

    // What the daily summaries and anyone else see from the cutoff on.
    std::map<std::tuple<std::string, std::string, std::int64_t>, std::int64_t> before;
    for (const char* meter : {"E-1", "E-2", "W-1"})
        for (const char* q : {"energy_kwh", "voltage_a_v"})
            for (std::int64_t t : {cutoff, cutoff + 1, cutoff + kDay / 3, now})
                before[{meter, q, t}] = (*store->reading_before(meter, q, t))->ts_ms;

    std::int64_t deleted = 0;
    int steps = 0;
    for (;;) {
        auto step = store->prune(cutoff, 500);
        REQUIRE(step.has_value());
        CHECK(step->readings <= 500);
        deleted += step->readings;
        ++steps;
        if (!step->more) break;
        REQUIRE(steps < 100);
    }
    CHECK(steps >= static_cast<int>((old_rows - 6) / 500));
    CHECK(deleted == old_rows - 6);  // the last of each meter and quantity stays
    CHECK(*store->reading_count() == total - deleted);
    CHECK(scalar(*store, "SELECT count(*) FROM readings WHERE ts_ms < " + std::to_string(cutoff)) ==
          6);
    for (const auto& [key, ts] : before) {
        const auto& [meter, q, t] = key;
        auto r = store->reading_before(meter, q, t);
        REQUIRE(r.has_value());
        REQUIRE(r->has_value());
        CHECK((*r)->ts_ms == ts);
    }
    // Nothing more to do: a further step deletes nothing.
    auto again = store->prune(cutoff, 500);
    REQUIRE(again.has_value());
    CHECK(again->readings == 0);
    CHECK_FALSE(again->more);
}

TEST_CASE("prune leaves what still waits in the outbox and what summaries still need") {
    TempDir dir;
    auto store = open_store(dir.db());
    std::vector<Reading> rows;
    for (std::int64_t day = 0; day < 10; ++day)
        rows.push_back(reading("E-1", day * kDay, "energy_kwh", day));
    insert_readings(*store, rows);
    {
        // A record created on day 4 still waits for the broker.
        auto tx = store->begin();
        REQUIRE(tx->append_outbox("reading", body(100), 4 * kDay).has_value());
        REQUIRE(tx->commit().has_value());
    }
    auto step = store->prune(8 * kDay, 1000);
    REQUIRE(step.has_value());
    CHECK(step->readings == 3);  // days 0..2; day 3 is the last before day 4
    REQUIRE(store->delete_outbox_through(*store->last_seq()).has_value());

    // The daily summaries have not yet been written from day 6 on.
    exec_ok(*store, "INSERT INTO core_state VALUES ('summaries_from_ms', " +
                        std::to_string(6 * kDay) + ")");
    step = store->prune(8 * kDay, 1000);
    REQUIRE(step.has_value());
    CHECK(step->readings == 2);  // days 3 and 4; day 5 is the last before day 6
    CHECK((*store->reading_before("E-1", "energy_kwh", 6 * kDay))->ts_ms == 5 * kDay);
}

TEST_CASE("prune deletes old events, never a top-up, and resumes its turn of meters") {
    TempDir dir;
    auto store = open_store(dir.db());
    exec_ok(*store, "INSERT INTO accounts (id, created_ms) VALUES ('A-1', 0)");
    exec_ok(*store,
            "INSERT INTO ledger (account, ts_ms, kind, amount_fen, balance_after_fen, idem_key)"
            " VALUES ('A-1', 0, 'topup', 500, 500, 'topup:1')");
    {
        auto tx = store->begin();
        for (int i = 0; i < 30; ++i)
            REQUIRE(tx->append_event(i * kDay, "low_balance", "{\"event\":\"low_balance\"}")
                        .has_value());
        REQUIRE(tx->commit().has_value());
    }
    REQUIRE(store->delete_outbox_through(*store->last_seq()).has_value());
    std::vector<Reading> rows;
    for (int m = 0; m < 5; ++m)
        for (int day = 0; day < 30; ++day)
            rows.push_back(reading("M-" + std::to_string(m), day * kDay, "energy_kwh", day));
    insert_readings(*store, rows);

    // 5 meters × 19 prunable readings, then 20 events, 7 rows a step.
    std::int64_t readings = 0, events = 0;
    for (int steps = 0;; ++steps) {
        REQUIRE(steps < 100);
        auto step = store->prune(20 * kDay, 7);
        REQUIRE(step.has_value());
        CHECK(step->readings + step->events <= 7);
        readings += step->readings;
        events += step->events;
        if (!step->more) break;
    }
    CHECK(readings == 5 * 19);
    CHECK(events == 20);
    CHECK(scalar(*store, "SELECT count(*) FROM events") == 10);
    CHECK(scalar(*store, "SELECT count(*) FROM ledger") == 1);
    for (int m = 0; m < 5; ++m)
        CHECK((*store->reading_before("M-" + std::to_string(m), "energy_kwh", 20 * kDay))->ts_ms ==
              19 * kDay);
}

TEST_CASE("prune folds old acknowledged charges into the account's total; payments stay") {
    TempDir dir;
    auto store = open_store(dir.db());
    auto attached = PrepaidTables::attach(*store);
    REQUIRE(attached.has_value());
    PrepaidTables& tables = **attached;
    {
        auto tx = store->begin();
        REQUIRE(tables.ensure_account("A-1", 0).has_value());
        REQUIRE(tables.ensure_account("A-2", 0).has_value());
        auto post = [&](const char* account, std::int64_t ts, const char* kind, std::int64_t amount,
                        const std::string& key) {
            LedgerEntry e;
            e.account = account;
            e.ts_ms = ts;
            e.kind = kind;
            e.amount_fen = amount;
            e.idem_key = key;
            auto row = tables.append_ledger(e);
            REQUIRE(row.has_value());
            REQUIRE(row->has_value());
        };
        post("A-1", 0, "topup", 100000, "topup:wx-1");
        post("A-2", 0, "opening", 5000, "opening:A-2");
        for (int day = 0; day < 30; ++day) {
            const std::string d = std::to_string(day * kDay);
            post("A-1", day * kDay, "charge", -(100 + day), "charge:E-1:" + d);
            post("A-2", day * kDay, "charge", -7, "charge:W-1:" + d);
            post("A-2", day * kDay, "fixed_charge", -50, "fixed:daily:A-2:t:" + d);
        }
        post("A-1", 5 * kDay, "refund", -1000, "refund:wx-1");
        REQUIRE(tx->append_outbox("ledger", body(100), 0).has_value());
        REQUIRE(tx->commit().has_value());
    }
    const std::int64_t a1 = tables.account("A-1")->value().balance_fen;
    const std::int64_t a2 = tables.account("A-2")->value().balance_fen;
    REQUIRE(*tables.ledger_sum("A-1") == a1);
    REQUIRE(*tables.ledger_sum("A-2") == a2);

    // Nothing goes while a record older than it waits for the broker.
    auto step = store->prune(20 * kDay, 1000);
    REQUIRE(step.has_value());
    CHECK(step->ledger == 0);
    REQUIRE(store->delete_outbox_through(*store->last_seq()).has_value());

    std::int64_t folded = 0;
    for (int steps = 0;; ++steps) {
        REQUIRE(steps < 100);
        step = store->prune(20 * kDay, 7);
        REQUIRE(step.has_value());
        CHECK(step->readings + step->events + step->ledger <= 7);
        folded += step->ledger;
        // Every step is a transaction of its own: the invariant holds after each.
        CHECK(*tables.ledger_sum("A-1") == a1);
        CHECK(*tables.ledger_sum("A-2") == a2);
        if (!step->more) break;
    }
    CHECK(folded == 20 * 3);  // days 0..19 of three charge series
    CHECK(tables.account("A-1")->value().balance_fen == a1);
    CHECK(scalar(*store,
                 "SELECT count(*) FROM ledger WHERE kind IN ('topup', 'opening', 'refund')") == 3);
    CHECK(scalar(*store, "SELECT count(*) FROM ledger WHERE ts_ms < " + std::to_string(20 * kDay) +
                             " AND kind LIKE '%charge'") == 0);
    CHECK(scalar(*store, "SELECT amount_fen FROM ledger_folded WHERE account = 'A-2'") ==
          -20 * (7 + 50));
    CHECK(scalar(*store, "SELECT rows FROM ledger_folded WHERE account = 'A-1'") == 20);
    CHECK(scalar(*store, "SELECT through_ms FROM ledger_folded WHERE account = 'A-1'") ==
          19 * kDay);

    // A payment's row can never go, by anyone: its txn must stay unique for ever.
    char* error = nullptr;
    CHECK(sqlite3_exec(store->handle(), "DELETE FROM ledger WHERE kind = 'topup'", nullptr, nullptr,
                       &error) != SQLITE_OK);
    REQUIRE(error != nullptr);
    CHECK(std::string(error).find("never deleted") != std::string::npos);
    sqlite3_free(error);
    CHECK(sqlite3_exec(store->handle(), "DELETE FROM ledger_folded", nullptr, nullptr, nullptr) !=
          SQLITE_OK);
}
