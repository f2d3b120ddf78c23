// Tests of the ingest thread's failure path with a real SQLITE_FULL: the store's
// connection is limited with PRAGMA max_page_count (set on the ingest thread
// itself, through Ingest::post), then given room again.
#include <doctest/doctest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <future>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "core/ingest.hpp"
#include "ecmgw/store/store.hpp"
#include "temp_store.hpp"

namespace fs = std::filesystem;
using ecmgw::Decimal;
using ecmgw::core::BusEvent;
using ecmgw::core::Ingest;
using ecmgw::core::IngestLimits;
using ecmgw::store::Reading;
using ecmgw::store::Store;

using ecmgw::test::open_store;
using ecmgw::test::TempDir;

namespace {

// Polls `done` until it holds; fails after a generous deadline.
template <class Condition>
void wait_until(Condition done, const char* what) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!done()) {
        INFO("waiting for " << what);
        REQUIRE(std::chrono::steady_clock::now() < deadline);
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

// Runs `sql` on the ingest thread, on its own connection, and waits for it.
void on_ingest_thread(Ingest& ingest, Store& store, const std::string& sql) {
    auto done = std::make_shared<std::promise<int>>();
    auto result = done->get_future();
    ingest.post([&store, sql, done] {
        done->set_value(sqlite3_exec(store.handle(), sql.c_str(), nullptr, nullptr, nullptr));
    });
    REQUIRE(result.get() == SQLITE_OK);
}

std::vector<Reading> readings(int first, int n) {
    std::vector<Reading> out;
    for (int i = first; i < first + n; ++i)
        out.push_back(Reading{"E-" + std::to_string(1000 + i % 50), 1'700'000'000'000 + i,
                              "energy_kwh_with_a_long_name_" + std::to_string(i % 7),
                              Decimal{123456789 + i, 3}});
    return out;
}

std::int64_t page_count(Store& store) {
    sqlite3_stmt* stmt = nullptr;
    REQUIRE(sqlite3_prepare_v2(store.handle(), "PRAGMA page_count", -1, &stmt, nullptr) ==
            SQLITE_OK);
    REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
    const auto n = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return n;
}

std::vector<nlohmann::json> events_of(Store& store, const std::string& type) {
    std::vector<nlohmann::json> out;
    sqlite3_stmt* stmt = nullptr;
    REQUIRE(sqlite3_prepare_v2(store.handle(), "SELECT body FROM events WHERE type = ?1", -1, &stmt,
                               nullptr) == SQLITE_OK);
    sqlite3_bind_text(stmt, 1, type.c_str(), -1, SQLITE_TRANSIENT);
    while (sqlite3_step(stmt) == SQLITE_ROW)
        out.push_back(
            nlohmann::json::parse(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))));
    sqlite3_finalize(stmt);
    return out;
}

// Fills the store until a write fails, then waits for `more` failed attempts after
// accepting `later` more readings. Returns how many readings were accepted.
int fill_until_failing(Ingest& ingest, Store& store, int later, std::uint64_t more) {
    int accepted = 0;
    ingest.accept(readings(accepted, 10));
    accepted += 10;
    wait_until([&] { return ingest.committed() == 10; }, "the first readings");
    on_ingest_thread(ingest, store, "PRAGMA max_page_count = " + std::to_string(page_count(store)));
    ingest.accept(readings(accepted, 1000));
    accepted += 1000;
    wait_until([&] { return ingest.write_failures() > 0; }, "a write to fail");
    const auto failures = ingest.write_failures();
    ingest.accept(readings(accepted, later));
    accepted += later;
    wait_until([&] { return ingest.write_failures() >= failures + more; }, "more failed attempts");
    return accepted;
}

}  // namespace

TEST_CASE(
    "a full store: the batch is kept and retried, nothing is lost, and the span is an "
    "event") {
    TempDir dir;
    auto store = open_store(dir.db());
    Ingest ingest(
        *store, [] {}, 2000, std::chrono::milliseconds(20));
    ingest.start();
    const int accepted = fill_until_failing(ingest, *store, 300, 1);
    const auto committed_while_full = ingest.committed();
    CHECK(committed_while_full == 10);
    // A bus event raised meanwhile waits with the readings.
    ingest.accept_event(BusEvent{
        "meter_offline", 1'700'000'500'000, "floor1", "E-1001", {{"last_error", "no answer"}}});

    on_ingest_thread(ingest, *store, "PRAGMA max_page_count = 1073741823");
    wait_until([&] { return ingest.committed() == static_cast<std::uint64_t>(accepted); },
               "every reading to be written");
    ingest.stop();

    auto reader = open_store(dir.db());
    // Every reading, exactly as accepted (a retried batch is the same batch).
    auto stored = reader->query_readings("", 0, std::numeric_limits<std::int64_t>::max());
    REQUIRE(stored.has_value());
    auto expected = readings(0, accepted);
    std::sort(expected.begin(), expected.end(),
              [](const Reading& a, const Reading& b) { return a.ts_ms < b.ts_ms; });
    CHECK(*stored == expected);

    const auto events = events_of(*reader, "store_write_failed");
    REQUIRE(events.size() == 1);
    const auto& details = events[0]["details"];
    CHECK(details["error"].get<std::string>().find("database or disk is full") !=
          std::string::npos);
    CHECK(details["failed_attempts"].get<int>() >= 1);
    CHECK(details["readings_discarded"].get<int>() == 0);
    CHECK(details["since"].get<std::string>() <= details["until"].get<std::string>());

    CHECK(events_of(*reader, "meter_offline").size() == 1);

    // Gap-free: the readings, then the events, every seq once.
    auto records = reader->peek_outbox(0, std::numeric_limits<std::size_t>::max(),
                                       std::numeric_limits<std::size_t>::max());
    REQUIRE(records.has_value());
    REQUIRE(records->size() == static_cast<std::size_t>(accepted) + 2);
    for (std::size_t i = 0; i < records->size(); ++i)
        CHECK((*records)[i].seq == static_cast<std::int64_t>(i) + 1);
}

TEST_CASE(
    "a full store: beyond max_pending the oldest queued readings are discarded and "
    "reported") {
    TempDir dir;
    auto store = open_store(dir.db());
    Ingest ingest(
        *store, [] {}, 2000, std::chrono::milliseconds(20));
    IngestLimits limits;
    limits.max_pending = 1200;  // the 1000 being retried and 200 more
    ingest.set_limits(limits);
    ingest.start();
    const int accepted = fill_until_failing(ingest, *store, 500, 2);

    on_ingest_thread(ingest, *store, "PRAGMA max_page_count = 1073741823");
    auto reader = open_store(dir.db());
    wait_until([&] { return !events_of(*reader, "store_write_failed").empty(); }, "the event");
    const auto details = events_of(*reader, "store_write_failed")[0]["details"];
    const int discarded = details["readings_discarded"].get<int>();
    CHECK(discarded == accepted - 10 - 1200);
    wait_until(
        [&] { return ingest.committed() == static_cast<std::uint64_t>(accepted - discarded); },
        "the held readings to be written");
    ingest.stop();

    // The batch being retried and the newest readings stay; the oldest queued went.
    auto stored = reader->query_readings("", 0, std::numeric_limits<std::int64_t>::max());
    REQUIRE(stored.has_value());
    REQUIRE(stored->size() == static_cast<std::size_t>(accepted - discarded));
    CHECK(stored->at(1009).ts_ms == readings(1009, 1)[0].ts_ms);
    CHECK(stored->at(1010).ts_ms == readings(1010 + discarded, 1)[0].ts_ms);
    CHECK(stored->back().ts_ms == readings(accepted - 1, 1)[0].ts_ms);
    CHECK(details.contains("discarded_from"));
    CHECK(details.contains("discarded_to"));
}

namespace {

// The prepaid side as far as bus events need it: which account a meter has.
class AccountsOnly final : public ecmgw::core::CoreHooks {
  public:
    ecmgw::Result on_batch(ecmgw::store::Transaction&, const std::vector<Reading>&) override {
        return {};
    }
    void after_commit() override {}
    void supply_observed(const ecmgw::core::SupplyObservation&) override {}
    void turn() override {}
    std::chrono::milliseconds turn_every() const override { return std::chrono::seconds(1); }
    std::string account_of(const std::string& meter) const override {
        return meter == "E-0002" ? "A-0002" : "";
    }
};

}  // namespace

TEST_CASE("bus events take their seqs in the stream of readings, alone or with a batch") {
    TempDir dir;
    auto store = open_store(dir.db());
    Ingest ingest(
        *store, [] {}, 2000, std::chrono::milliseconds(20));
    AccountsOnly hooks;
    ingest.set_hooks(&hooks);
    ingest.start();
    ingest.accept(readings(0, 3));
    wait_until([&] { return ingest.committed() == 3; }, "the readings");
    // Alone: written without waiting for readings.
    ingest.accept_event(BusEvent{"bus_link_lost",
                                 1'780'000'000'000,
                                 "floor1",
                                 "",
                                 {{"error", "cannot open"}, {"link", "/dev/ttyUSB0 2400 8E1"}}});
    auto reader = open_store(dir.db());
    wait_until([&] { return !events_of(*reader, "bus_link_lost").empty(); }, "the lone event");
    // With readings: after them (in their transaction, or the next one).
    ingest.accept(readings(3, 2));
    ingest.accept_event(
        BusEvent{"meter_online", 1'780'000'001'000, "floor1", "E-0002", {{"offline_s", 90}}});
    ingest.stop();

    auto records = reader->peek_outbox(0, std::numeric_limits<std::size_t>::max(),
                                       std::numeric_limits<std::size_t>::max());
    REQUIRE(records.has_value());
    std::vector<std::string> kinds;
    for (std::size_t i = 0; i < records->size(); ++i) {
        CHECK((*records)[i].seq == static_cast<std::int64_t>(i) + 1);
        kinds.push_back((*records)[i].kind);
    }
    CHECK(kinds == std::vector<std::string>{"reading", "reading", "reading", "event", "reading",
                                            "reading", "event"});
    CHECK(
        nlohmann::json::parse((*records)[3].body) ==
        nlohmann::json{{"event", "bus_link_lost"},
                       {"ts", "2026-05-28T20:26:40.000Z"},
                       {"bus", "floor1"},
                       {"details", {{"error", "cannot open"}, {"link", "/dev/ttyUSB0 2400 8E1"}}}});
    CHECK(nlohmann::json::parse((*records)[6].body) ==
          nlohmann::json{{"event", "meter_online"},
                         {"ts", "2026-05-28T20:26:41.000Z"},
                         {"bus", "floor1"},
                         {"meter", "E-0002"},
                         {"account", "A-0002"},
                         {"details", {{"offline_s", 90}}}});
    // The events table names the meter and its account, as for the engine's events.
    sqlite3_stmt* stmt = nullptr;
    REQUIRE(sqlite3_prepare_v2(reader->handle(),
                               "SELECT meter, account FROM events WHERE type = 'meter_online'", -1,
                               &stmt, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
    CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))) == "E-0002");
    CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1))) == "A-0002");
    sqlite3_finalize(stmt);
}
