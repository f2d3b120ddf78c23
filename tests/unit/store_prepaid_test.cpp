// Tests of the store's prepaid tables: the ledger keeps balance = sum of rows by
// itself, refuses a repeated cause, is append-only; rating and supply rows
// round-trip; command ids are remembered.
#include <doctest/doctest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <random>
#include <string>

#include "ecmgw/store/prepaid_tables.hpp"
#include "ecmgw/store/store.hpp"

namespace fs = std::filesystem;
using ecmgw::Decimal;
using ecmgw::store::LedgerEntry;
using ecmgw::store::MeterRatingRow;
using ecmgw::store::PrepaidTables;
using ecmgw::store::Store;
using ecmgw::store::SupplyRow;

namespace {

struct Fixture {
    Fixture() {
        std::string pattern = "/tmp/ecmgw-prepaid-store-XXXXXX";
        REQUIRE(mkdtemp(pattern.data()) != nullptr);
        dir = pattern;
        auto opened = Store::open(dir / "t.db");
        REQUIRE(opened.has_value());
        store = std::move(*opened);
        auto attached = PrepaidTables::attach(*store);
        REQUIRE(attached.has_value());
        tables = std::move(*attached);
    }
    ~Fixture() {
        tables.reset();
        store.reset();
        fs::remove_all(dir);
    }
    fs::path dir;
    std::unique_ptr<Store> store;
    std::unique_ptr<PrepaidTables> tables;
};

LedgerEntry entry(std::string account, std::string kind, std::int64_t fen, std::string key) {
    LedgerEntry e;
    e.account = std::move(account);
    e.ts_ms = 1'764'000'000'000;
    e.kind = std::move(kind);
    e.amount_fen = fen;
    e.idem_key = std::move(key);
    return e;
}

int exec_raw(Store& s, const char* sql) {
    return sqlite3_exec(s.handle(), sql, nullptr, nullptr, nullptr);
}

}  // namespace

TEST_CASE("a ledger row moves the balance in the same transaction and states the result") {
    Fixture f;
    auto tx = f.store->begin();
    REQUIRE(tx.has_value());
    CHECK(*f.tables->ensure_account("A-1", 1) == true);
    CHECK(*f.tables->ensure_account("A-1", 2) == false);
    auto topup = f.tables->append_ledger(entry("A-1", "topup", 10000, "topup:wx-1"));
    REQUIRE(topup.has_value());
    REQUIRE(topup->has_value());
    CHECK((*topup)->balance_after_fen == 10000);
    auto charge = f.tables->append_ledger(entry("A-1", "charge", -37, "charge:E-1:1000"));
    REQUIRE(charge.has_value());
    CHECK((*charge)->balance_after_fen == 9963);
    REQUIRE(tx->commit().has_value());
    CHECK(f.tables->account("A-1")->value().balance_fen == 9963);
    CHECK(*f.tables->ledger_sum("A-1") == 9963);
}

TEST_CASE("a cause applies at most once: a repeated idem_key changes nothing") {
    Fixture f;
    auto tx = f.store->begin();
    REQUIRE(f.tables->ensure_account("A-1", 1).has_value());
    REQUIRE(f.tables->append_ledger(entry("A-1", "topup", 500, "topup:wx-9"))->has_value());
    auto again = f.tables->append_ledger(entry("A-1", "topup", 500, "topup:wx-9"));
    REQUIRE(again.has_value());
    CHECK_FALSE(again->has_value());
    REQUIRE(tx->commit().has_value());
    CHECK(f.tables->account("A-1")->value().balance_fen == 500);
    CHECK(f.tables->ledger("A-1", 0)->size() == 1);
}

TEST_CASE("a rolled-back transaction leaves neither the row nor the balance change") {
    Fixture f;
    {
        auto tx = f.store->begin();
        REQUIRE(f.tables->ensure_account("A-1", 1).has_value());
        REQUIRE(tx->commit().has_value());
    }
    {
        auto tx = f.store->begin();
        REQUIRE(f.tables->append_ledger(entry("A-1", "topup", 700, "topup:x"))->has_value());
    }  // destroyed uncommitted
    CHECK(f.tables->account("A-1")->value().balance_fen == 0);
    CHECK(f.tables->ledger("A-1", 0)->empty());
}

TEST_CASE("the ledger refuses writes outside a transaction, unknown accounts, edits and deletes") {
    Fixture f;
    auto outside = f.tables->append_ledger(entry("A-1", "topup", 1, "k"));
    REQUIRE_FALSE(outside.has_value());
    CHECK(outside.error().message.find("needs an open transaction") != std::string::npos);
    {
        auto tx = f.store->begin();
        auto unknown = f.tables->append_ledger(entry("nobody", "topup", 1, "k2"));
        REQUIRE_FALSE(unknown.has_value());
        CHECK(unknown.error().message.find("no account") != std::string::npos);
        REQUIRE(f.tables->ensure_account("A-1", 1).has_value());
        REQUIRE(f.tables->append_ledger(entry("A-1", "topup", 100, "k3"))->has_value());
        REQUIRE(tx->commit().has_value());
    }
    CHECK(exec_raw(*f.store, "UPDATE ledger SET amount_fen = 5") != SQLITE_OK);
    CHECK(exec_raw(*f.store, "DELETE FROM ledger") != SQLITE_OK);
    // A row that misstates the balance it leads to is refused by the trigger.
    CHECK(exec_raw(*f.store,
                   "INSERT INTO ledger (account, ts_ms, kind, amount_fen, balance_after_fen,"
                   " idem_key) VALUES ('A-1', 1, 'adjustment', 5, 999, 'bad')") != SQLITE_OK);
    CHECK(f.tables->account("A-1")->value().balance_fen == 100);
}

TEST_CASE("random ledger sequences keep balance == sum of rows") {
    Fixture f;
    std::mt19937_64 rng(42);
    {
        auto tx = f.store->begin();
        for (const char* a : {"A", "B", "C"}) REQUIRE(f.tables->ensure_account(a, 1).has_value());
        REQUIRE(tx->commit().has_value());
    }
    for (int batch = 0; batch < 50; ++batch) {
        auto tx = f.store->begin();
        for (int i = 0; i < 20; ++i) {
            const std::string acct(1, static_cast<char>('A' + rng() % 3));
            std::int64_t fen = static_cast<std::int64_t>(rng() % 20001) - 10000;
            if (fen == 0) fen = 1;
            // Keys repeat now and then: those rows must be ignored.
            const std::string key = "k" + std::to_string(rng() % 600);
            REQUIRE(f.tables->append_ledger(entry(acct, "adjustment", fen, key)).has_value());
        }
        if (rng() % 4 == 0) continue;  // roll back a quarter of the batches
        REQUIRE(tx->commit().has_value());
    }
    for (const char* a : {"A", "B", "C"})
        CHECK(f.tables->account(a)->value().balance_fen == *f.tables->ledger_sum(a));
}

TEST_CASE("rating and supply rows round-trip; the charged-up-to time never goes back") {
    Fixture f;
    auto tx = f.store->begin();
    REQUIRE(f.tables->ensure_account("A-1", 1).has_value());
    MeterRatingRow r;
    r.meter = "E-1";
    r.account = "A-1";
    r.last_register = Decimal{12345, 2};
    r.last_ts_ms = 5000;
    r.remainder_pico = 123;
    r.cycle_key = 20261101;
    r.cycle_consumed_micro = 99;
    REQUIRE(f.tables->put_meter_rating(r).has_value());
    r.suspect_register = Decimal{7, 1};
    r.suspect_ts_ms = 6000;
    r.last_ts_ms = 6000;
    REQUIRE(f.tables->put_meter_rating(r).has_value());
    auto back = f.tables->meter_rating("E-1");
    REQUIRE(back->has_value());
    CHECK((*back)->last_register == Decimal{12345, 2});
    CHECK((*back)->suspect_register == Decimal{7, 1});
    CHECK((*back)->suspect_ts_ms == 6000);
    r.last_ts_ms = 4000;
    CHECK_FALSE(f.tables->put_meter_rating(r).has_value());

    SupplyRow s;
    s.meter = "E-1";
    s.desired = "off";
    s.reason = "credit_exhausted";
    s.desired_ms = 7;
    s.observed = "on";
    REQUIRE(f.tables->put_supply(s).has_value());
    CHECK(f.tables->supply("E-1")->value().desired == "off");
    s.desired = "sideways";
    CHECK_FALSE(f.tables->put_supply(s).has_value());
}

TEST_CASE("a command id is recorded once") {
    Fixture f;
    auto tx = f.store->begin();
    CHECK(*f.tables->record_command("c-1", "topup", true, 1) == true);
    CHECK(*f.tables->record_command("c-1", "topup", true, 2) == false);
    REQUIRE(tx->commit().has_value());
    CHECK(*f.tables->command_seen("c-1"));
    CHECK_FALSE(*f.tables->command_seen("c-2"));
}
