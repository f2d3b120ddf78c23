// Tests of the prepaid engine against a real store: readings are charged to their
// account, untrustworthy readings are quarantined, warnings fire once per crossing,
// supply follows credit, commands apply at most once, and random sequences keep
// the ledger invariants; supply checks judge meters switched behind the gateway's
// back, and the reconciler switches them back.
#include <doctest/doctest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <optional>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "core/prepaid_engine.hpp"
#include "core/supply_reconciler.hpp"
#include "ecmgw/config/config.hpp"
#include "ecmgw/store/prepaid_tables.hpp"
#include "ecmgw/store/store.hpp"

namespace fs = std::filesystem;
using ecmgw::Decimal;
using ecmgw::core::PrepaidEngine;
using ecmgw::store::Reading;
using ecmgw::store::Store;

namespace {

constexpr std::int64_t kT0 = 1'795'996'800'000;  // 2026-11-30T00:00:00Z, a Monday
constexpr std::int64_t kMinute = 60'000;

const char* kBaseConfig = R"(
[gateway]
id = "gw"
data_dir = "/tmp"
[[bus]]
name = "b"
device = "/dev/null"
[[tariff]]
id = "flat"
utility = "electricity"
price = "0.5"
[[account]]
id = "A"
tariff = "flat"
warn_fen = [2000, 500]
credit_limit_fen = 0
restore_above_fen = 100
opening_balance_fen = 3000
[[meter]]
id = "E"
bus = "b"
protocol = "dlt645-2007"
address = "000000000001"
account = "A"
relay = true
max_rate_per_hour = "60"
quantities = ["energy_kwh"]
)";

struct Rig {
    explicit Rig(const std::string& extra = "") {
        auto parsed = ecmgw::config::parse_config(std::string(kBaseConfig) + extra, "test.toml");
        if (!parsed) {
            for (const auto& e : parsed.error()) MESSAGE(e.to_string());
        }
        REQUIRE(parsed.has_value());
        cfg = std::move(*parsed);
        std::string pattern = "/tmp/ecmgw-engine-XXXXXX";
        REQUIRE(mkdtemp(pattern.data()) != nullptr);
        dir = pattern;
        auto opened = Store::open(dir / "t.db");
        REQUIRE(opened.has_value());
        store = std::move(*opened);
        auto attached = ecmgw::store::PrepaidTables::attach(*store);
        REQUIRE(attached.has_value());
        tables = std::move(*attached);
        engine = std::make_unique<PrepaidEngine>(cfg, calendar, *store, *tables);
        in_tx([&](auto& tx) { return engine->start(tx, kT0 - kMinute); });
    }
    ~Rig() {
        engine.reset();
        tables.reset();
        store.reset();
        fs::remove_all(dir);
    }
    template <class F>
    void in_tx(F&& f) {
        auto tx = store->begin();
        REQUIRE(tx.has_value());
        auto r = f(*tx);
        if (!r) MESSAGE(r.error().message);
        REQUIRE(r.has_value());
        REQUIRE(tx->commit().has_value());
    }
    void read(std::int64_t ts, std::int64_t hundredths_kwh, const char* meter = "E") {
        in_tx([&](auto& tx) -> ecmgw::Result {
            const Reading r{meter, ts, "energy_kwh", Decimal{hundredths_kwh, 2}};
            if (auto ok = tx.insert_reading(r); !ok) return ok;
            return engine->on_reading(tx, r);
        });
    }
    std::int64_t balance(const char* a = "A") { return tables->account(a)->value().balance_fen; }
    std::int64_t sum(const char* a = "A") { return *tables->ledger_sum(a); }
    std::size_t events(const std::string& type) {
        auto all = tables->events(0, 100000);
        REQUIRE(all.has_value());
        const std::vector<ecmgw::store::EventRow> rows = std::move(*all);
        std::size_t n = 0;
        for (const auto& e : rows) n += e.type == type;
        return n;
    }
    std::string desired(const char* m = "E") { return tables->supply(m)->value().desired; }
    std::string observed(const char* m = "E") { return tables->supply(m)->value().observed; }
    nlohmann::json last_event_details(const std::string& type) {
        auto all = tables->events(0, 100000);
        REQUIRE(all.has_value());
        nlohmann::json details;
        for (const auto& e : *all)
            if (e.type == type) details = nlohmann::json::parse(e.body)["details"];
        return details;
    }

    ecmgw::config::Config cfg;
    ecmgw::prepaid::Calendar calendar = ecmgw::prepaid::Calendar::fixed_offset(8 * 3600);
    fs::path dir;
    std::unique_ptr<Store> store;
    std::unique_ptr<ecmgw::store::PrepaidTables> tables;
    std::unique_ptr<PrepaidEngine> engine;
};

}  // namespace

TEST_CASE("the opening balance is credited once, however often the engine starts") {
    Rig rig;
    CHECK(rig.balance() == 3000);
    rig.in_tx([&](auto& tx) { return rig.engine->start(tx, kT0); });
    CHECK(rig.balance() == 3000);
    CHECK(rig.sum() == 3000);
    CHECK(rig.desired() == "on");
}

TEST_CASE("register movement is charged at the tariff's price, exactly, to the account") {
    Rig rig;
    rig.read(kT0, 100000);                 // 1000.00 kWh: where charging starts
    rig.read(kT0 + 10 * kMinute, 100150);  // +1.50 kWh at 0.5 = 75 fen
    CHECK(rig.balance() == 3000 - 75);
    rig.read(kT0 + 20 * kMinute, 100151);  // +0.01 kWh = 0.5 fen: carried, not charged yet
    CHECK(rig.balance() == 2925);
    rig.read(kT0 + 30 * kMinute, 100152);  // another 0.5 fen: now 1 fen
    CHECK(rig.balance() == 2924);
    CHECK(rig.balance() == rig.sum());
    // The same reading again changes nothing.
    rig.read(kT0 + 30 * kMinute, 100152);
    CHECK(rig.balance() == 2924);
}

TEST_CASE("a register that goes back is quarantined; a replaced meter is re-based, never charged") {
    Rig rig;
    rig.read(kT0, 500000);
    rig.read(kT0 + 10 * kMinute, 500100);  // +1 kWh = 50 fen
    CHECK(rig.balance() == 2950);
    rig.read(kT0 + 20 * kMinute, 20);  // the new meter starts near zero
    CHECK(rig.events("reading_quarantined") == 1);
    CHECK(rig.balance() == 2950);
    rig.read(kT0 + 30 * kMinute, 220);  // confirms the new meter: +2 kWh from 0.20
    CHECK(rig.events("meter_rebased") == 1);
    CHECK(rig.balance() == 2950 - 100);
    CHECK(rig.balance() == rig.sum());
}

TEST_CASE("an impossible jump is quarantined and costs nothing") {
    Rig rig;
    rig.read(kT0, 100000);
    // 60 kW maximum: 10 minutes allow 10 kWh; 500 kWh is a corrupt frame.
    rig.read(kT0 + 10 * kMinute, 150000);
    CHECK(rig.events("reading_quarantined") == 1);
    CHECK(rig.balance() == 3000);
    // The next good reading is charged from the last trusted one.
    rig.read(kT0 + 20 * kMinute, 100200);
    CHECK(rig.balance() == 3000 - 100);
    CHECK(rig.events("meter_rebased") == 0);
}

TEST_CASE("readings stamped by an unset or backwards clock are quarantined") {
    Rig rig;
    rig.read(kT0, 100000);
    rig.read(1'000'000, 100100);           // 1970: the clock is unset
    rig.read(kT0 - 10 * kMinute, 100100);  // before the last charged reading
    CHECK(rig.events("reading_quarantined") == 2);
    CHECK(rig.balance() == 3000);
}

TEST_CASE("warnings fire once per crossing, in both directions; supply is cut and restored") {
    Rig rig;
    rig.read(kT0, 0);
    rig.read(kT0 + 60 * kMinute, 2000);  // 20 kWh = 1000 fen → 2000: at the threshold
    CHECK(rig.events("low_balance") == 1);
    rig.read(kT0 + 120 * kMinute, 2100);  // 1950
    CHECK(rig.events("low_balance") == 1);
    rig.read(kT0 + 180 * kMinute, 6000);  // 39 kWh = 1950 fen → 0: crosses 500, exhausted
    CHECK(rig.events("low_balance") == 2);
    CHECK(rig.events("credit_exhausted") == 1);
    CHECK(rig.desired() == "off");
    CHECK(rig.tables->supply("E")->value().reason == "credit_exhausted");
    rig.in_tx([&](auto& tx) -> ecmgw::Result {
        auto r = rig.engine->topup(tx, "A", 50, "wx-1", kT0 + 200 * kMinute);
        REQUIRE(r.has_value());
        return {};
    });
    // 50 fen is not above the restore threshold of 100.
    CHECK(rig.desired() == "off");
    CHECK(rig.tables->supply("E")->value().reason == "awaiting_restore");
    rig.in_tx([&](auto& tx) -> ecmgw::Result {
        REQUIRE(rig.engine->topup(tx, "A", 5000, "wx-2", kT0 + 201 * kMinute).has_value());
        return {};
    });
    CHECK(rig.desired() == "on");
    CHECK(rig.events("balance_recovered") == 2);
    CHECK(rig.balance() == rig.sum());
}

TEST_CASE("a top-up applies at most once; bad top-ups are refused and change nothing") {
    Rig rig;
    rig.in_tx([&](auto& tx) -> ecmgw::Result {
        REQUIRE(rig.engine->topup(tx, "A", 1000, "wx-9", kT0).has_value());
        auto again = rig.engine->topup(tx, "A", 1000, "wx-9", kT0);
        REQUIRE_FALSE(again.has_value());
        CHECK(again.error().reason.find("duplicate") != std::string::npos);
        auto unknown = rig.engine->topup(tx, "nobody", 1000, "wx-10", kT0);
        REQUIRE_FALSE(unknown.has_value());
        CHECK(unknown.error().reason == "unknown account nobody");
        CHECK_FALSE(rig.engine->topup(tx, "A", -5, "wx-11", kT0).has_value());
        return {};
    });
    CHECK(rig.balance() == 4000);
    CHECK(rig.balance() == rig.sum());
}

TEST_CASE("keep-power and friendly periods keep supply on; forcing overrides credit") {
    SUBCASE("keep power") {
        Rig rig;
        rig.in_tx([&](auto& tx) -> ecmgw::Result {
            REQUIRE(rig.engine->set_keep_power(tx, "A", true, kT0).has_value());
            return {};
        });
        rig.read(kT0, 0);
        rig.read(kT0 + 600 * kMinute, 10000);  // 100 kWh = 5000 fen: -2000
        CHECK(rig.balance() == -2000);
        CHECK(rig.desired() == "on");
        CHECK(rig.tables->supply("E")->value().reason == "keep_power");
        // Handed back to the config (no keep_power there): the exhausted account is cut.
        rig.in_tx([&](auto& tx) -> ecmgw::Result {
            REQUIRE(
                rig.engine->set_keep_power(tx, "A", std::nullopt, kT0 + 601 * kMinute).has_value());
            return {};
        });
        CHECK_FALSE(rig.tables->account("A")->value().keep_power.has_value());
        CHECK(rig.desired() == "off");
        CHECK(rig.events("keep_power_off") == 1);
    }
    SUBCASE("a friendly night defers the cut until it ends") {
        Rig rig("\n[prepaid]\nfriendly_hours = [\"22:00-06:00\"]\n");
        // kT0 is 08:00 in Shanghai; 14 h later is 22:00 local.
        const std::int64_t night = kT0 + 14 * 60 * kMinute + 30 * kMinute;
        rig.read(night - 60 * kMinute, 0);
        rig.read(night, 6000);  // 60 kWh = 3000 fen: exhausted at 22:30 local
        CHECK(rig.desired() == "on");
        CHECK(rig.tables->supply("E")->value().reason == "friendly_period");
        rig.in_tx([&](auto& tx) { return rig.engine->tick(tx, night + 60 * kMinute); });
        CHECK(rig.desired() == "on");
        rig.in_tx([&](auto& tx) { return rig.engine->tick(tx, night + 8 * 60 * kMinute); });
        CHECK(rig.desired() == "off");  // 06:30: the night is over
    }
    SUBCASE("forced off and on") {
        Rig rig;
        rig.in_tx([&](auto& tx) -> ecmgw::Result {
            REQUIRE(rig.engine->force_supply(tx, "E", ecmgw::prepaid::Force::Off, "test", kT0)
                        .has_value());
            return {};
        });
        CHECK(rig.desired() == "off");
        CHECK(rig.tables->supply("E")->value().reason == "forced_off");
        rig.in_tx([&](auto& tx) -> ecmgw::Result {
            REQUIRE(rig.engine->force_supply(tx, "E", ecmgw::prepaid::Force::None, "test", kT0)
                        .has_value());
            return {};
        });
        CHECK(rig.desired() == "on");  // credit is fine
    }
}

TEST_CASE("random readings, top-ups and rollbacks keep every invariant") {
    Rig rig;
    std::mt19937_64 rng(7);
    std::int64_t reg = 100000;
    std::int64_t ts = kT0;
    std::int64_t committed_reg = reg;
    int topups = 0;
    for (int i = 0; i < 400; ++i) {
        auto tx = rig.store->begin();
        REQUIRE(tx.has_value());
        const int n = 1 + static_cast<int>(rng() % 5);
        std::int64_t batch_reg = reg, batch_ts = ts;
        for (int k = 0; k < n; ++k) {
            batch_ts += kMinute * static_cast<std::int64_t>(1 + rng() % 30);
            if (rng() % 20 == 0) {
                // Noise: a corrupt value now and then.
                REQUIRE(
                    rig.engine
                        ->on_reading(
                            *tx, Reading{"E", batch_ts, "energy_kwh",
                                         Decimal{static_cast<std::int64_t>(rng() % 1000000), 2}})
                        .has_value());
            } else {
                batch_reg += static_cast<std::int64_t>(rng() % 50);
                REQUIRE(rig.engine
                            ->on_reading(
                                *tx, Reading{"E", batch_ts, "energy_kwh", Decimal{batch_reg, 2}})
                            .has_value());
            }
            if (rng() % 10 == 0) {
                const std::string txn = "t" + std::to_string(rng() % 40);  // repeats on purpose
                (void)rig.engine->topup(*tx, "A", 1 + static_cast<std::int64_t>(rng() % 3000), txn,
                                        batch_ts);
                ++topups;
            }
        }
        if (rng() % 5 == 0) continue;  // rolled back
        REQUIRE(tx->commit().has_value());
        reg = batch_reg;
        ts = batch_ts;
        committed_reg = reg;
    }
    CHECK(rig.balance() == rig.sum());
    auto ledger = *rig.tables->ledger("A", 0);
    std::set<std::string> keys;
    for (const auto& e : ledger) CHECK(keys.insert(e.idem_key).second);
    CHECK(topups > 0);
    (void)committed_reg;
}

namespace {
std::vector<nlohmann::json> summaries(Store& store) {
    std::vector<nlohmann::json> out;
    auto records = store.peek_outbox(0, 100000, 1u << 30);
    REQUIRE(records.has_value());
    for (const auto& r : *records)
        if (r.kind == "summary") out.push_back(nlohmann::json::parse(r.body));
    return out;
}
}  // namespace

TEST_CASE("daily summaries: each local day once, split at midnight, late days marked as a gap") {
    Rig rig;
    // kT0 is 08:00 local (UTC+8) on 2026-11-30. The first tick only marks where
    // summaries start: the next local midnight.
    rig.in_tx([&](auto& tx) { return rig.engine->tick(tx, kT0); });
    CHECK(summaries(*rig.store).empty());
    const std::int64_t midnight = kT0 + 16 * 60 * kMinute;  // 2026-12-01 00:00 local
    rig.read(midnight + 60 * kMinute, 100000);              // 01:00
    rig.read(midnight + 23 * 60 * kMinute, 101100);         // 23:00: 11 kWh on Dec 1
    rig.read(midnight + 25 * 60 * kMinute, 101300);         // 01:00 Dec 2: 2 kWh, half each day
    rig.in_tx(
        [&](auto& tx) { return rig.engine->tick(tx, midnight + 24 * 60 * kMinute + kMinute); });
    // Dec 1 is due: 11 kWh, plus the half of the 23:00-01:00 interval before midnight.
    auto all = summaries(*rig.store);
    REQUIRE(all.size() == 2);  // meter + account
    CHECK(all[0]["day"] == "2026-12-01");
    CHECK(all[0]["scope"] == "meter");
    CHECK(all[0]["consumption"] == "12.000000");
    CHECK(all[0]["cost_fen"] == 600);
    CHECK(all[0]["closing_register"] == "1011.00");  // the last reading before midnight
    CHECK(all[0]["gap"] == false);
    CHECK(all[1]["scope"] == "account");
    CHECK(all[1]["closing_balance_fen"] == rig.balance());
    // Ticking again writes nothing new; a day summarised hours late is a gap.
    rig.in_tx(
        [&](auto& tx) { return rig.engine->tick(tx, midnight + 24 * 60 * kMinute + 2 * kMinute); });
    CHECK(summaries(*rig.store).size() == 2);
    rig.in_tx([&](auto& tx) {
        return rig.engine->tick(tx, midnight + 48 * 60 * kMinute + 5 * 60 * kMinute);
    });
    // Dec 2 waits for the meter to be read past its end, but not for ever (6 h).
    CHECK(summaries(*rig.store).size() == 2);
    rig.in_tx([&](auto& tx) {
        return rig.engine->tick(tx, midnight + 48 * 60 * kMinute + 7 * 60 * kMinute);
    });
    auto later = summaries(*rig.store);
    REQUIRE(later.size() == 4);
    CHECK(later[2]["day"] == "2026-12-02");
    CHECK(later[2]["consumption"] == "1.000000");
    CHECK(later[2]["gap"] == true);
    CHECK_FALSE(later[3].contains("closing_balance_fen"));
}

TEST_CASE("a meter's own time-of-use registers decide the split, not the clock") {
    Rig rig(R"(
[[tariff]]
id = "tou"
utility = "electricity"
prices = { peak = "1.0", valley = "0.2" }
periods = ["00:00-12:00 valley", "12:00-24:00 peak"]
[[account]]
id = "B"
tariff = "tou"
opening_balance_fen = 100000
[[meter]]
id = "T"
bus = "b"
protocol = "dlt645-2007"
address = "000000000002"
account = "B"
max_rate_per_hour = "60"
quantities = ["energy_kwh", "energy_t1_kwh", "energy_t2_kwh", "energy_t3_kwh", "energy_t4_kwh"]
)");
    auto read = [&](std::int64_t ts, std::int64_t total, std::array<std::int64_t, 4> t) {
        ecmgw::core::PeriodRegisters periods;
        for (std::size_t i = 0; i < 4; ++i) periods[i] = Decimal{t[i], 2};
        rig.in_tx([&](auto& tx) {
            return rig.engine->on_reading(tx, Reading{"T", ts, "energy_kwh", Decimal{total, 2}},
                                          &periods);
        });
    };
    // kT0 is 08:00 local. 11:00-13:00 straddles valley (0.2) and peak (1.0): by
    // the clock, 10 kWh would be half each (600 fen).
    read(kT0 + 180 * kMinute, 10000, {0, 5000, 0, 5000});
    // The meter says all 10 kWh went on its valley register (used before noon).
    read(kT0 + 300 * kMinute, 11000, {0, 5000, 0, 6000});
    CHECK(rig.balance("B") == 100000 - 200);
    // Registers that disagree with the total fall back to the clock: 13:00-15:00 is peak.
    read(kT0 + 420 * kMinute, 12000, {0, 5500, 0, 6000});  // 5 kWh moved, 10 kWh total
    CHECK(rig.balance("B") == 100000 - 200 - 1000);
    CHECK(rig.balance("B") == rig.sum("B"));
}

TEST_CASE("a reading interval across a jump of the gateway clock is quarantined, not charged") {
    Rig rig;
    rig.read(kT0, 100'00);
    rig.read(kT0 + kMinute, 100'50);
    const std::int64_t charged = rig.balance();
    CHECK(charged < 3000);
    // The clock stepped three hours forward after the last reading.
    const ecmgw::core::ClockJump jump{kT0 + 2 * kMinute, kT0 + 3 * 60 * kMinute, 3 * 60 * kMinute};
    rig.in_tx([&](auto& tx) { return rig.engine->clock_jumped(tx, jump); });
    CHECK(rig.events("gateway_clock_jumped") == 1);
    rig.read(kT0 + 3 * 60 * kMinute + kMinute, 101'00);
    CHECK(rig.events("reading_quarantined") == 1);
    CHECK(rig.balance() == charged);
    // Charging resumes from the first reading after the jump.
    rig.read(kT0 + 3 * 60 * kMinute + 2 * kMinute, 102'00);
    CHECK(rig.balance() == charged - 50);
    CHECK(rig.balance() == rig.sum());
}

TEST_CASE("ClockJumpWatch: steps beyond the tolerance either way are jumps, drift is not") {
    ecmgw::core::ClockJumpWatch watch;
    CHECK_FALSE(watch.observe(1'000'000, 0));
    CHECK_FALSE(watch.observe(1'061'000, 60'000));  // a second of drift
    auto forward = watch.observe(1'061'000 + 3'600'000 + 1'000, 61'000);
    REQUIRE(forward);
    CHECK(forward->before_ms == 1'061'000);
    CHECK(forward->by_ms == 3'600'000);
    auto back = watch.observe(1'000'000, 62'000);
    REQUIRE(back);
    CHECK(back->by_ms < 0);
    CHECK_FALSE(watch.observe(1'001'000, 63'000));
}

namespace {
// A meter billed by its forward active register that also stores its daily freeze.
const char* kFrozenMeter = R"(
[[meter]]
id = "F"
bus = "b"
protocol = "dlt645-2007"
address = "000000000002"
account = "A"
max_rate_per_hour = "60"
quantities = ["import_energy_kwh", "frozen_import_energy_kwh"]
)";

void store_reading(Rig& rig, const char* quantity, std::int64_t ts, std::int64_t hundredths) {
    rig.in_tx([&](auto& tx) -> ecmgw::Result {
        const Reading r{"F", ts, quantity, Decimal{hundredths, 2}};
        if (auto ok = tx.insert_reading(r); !ok) return ok;
        return rig.engine->on_reading(tx, r);
    });
}
}  // namespace

TEST_CASE("daily summaries take the closing register and the day from the meter's freeze") {
    Rig rig(kFrozenMeter);
    rig.in_tx([&](auto& tx) { return rig.engine->tick(tx, kT0); });
    const std::int64_t day = 24 * 60 * kMinute;
    const std::int64_t midnight = kT0 + 16 * 60 * kMinute;  // 2026-12-01 00:00 local
    // Dec 1: no freeze at its start, one at its end: the closing register is the meter's,
    // the consumption what was charged.
    store_reading(rig, "import_energy_kwh", midnight + 60 * kMinute, 100000);
    store_reading(rig, "import_energy_kwh", midnight + 23 * 60 * kMinute, 101000);
    store_reading(rig, "frozen_import_energy_kwh", midnight + day, 101040);
    store_reading(rig, "import_energy_kwh", midnight + day + 30 * kMinute, 101060);
    rig.in_tx([&](auto& tx) { return rig.engine->tick(tx, midnight + day + 31 * kMinute); });
    auto all = summaries(*rig.store);
    REQUIRE(all.size() == 3);  // E, F, account
    const auto& e = all[0];
    const auto& f = all[1];
    CHECK(e["meter"] == "E");
    CHECK(e["source"] == "readings");
    CHECK(f["meter"] == "F");
    CHECK(f["source"] == "frozen");
    CHECK(f["closing_register"] == "1010.40");
    CHECK(f["closing_ts"] == "2026-12-01T16:00:00.000Z");
    CHECK(f["consumption"] == "10.400000");  // 10 kWh + 2/3 of the 0.6 kWh across midnight
    CHECK_FALSE(f.contains("charged_consumption"));

    // Dec 2 froze at its start: its summary waits for the freeze at its end (the meter was
    // read past midnight, but not its freeze yet), then counts freeze to freeze.
    store_reading(rig, "import_energy_kwh", midnight + 2 * day + 10 * kMinute, 102000);
    rig.in_tx([&](auto& tx) { return rig.engine->tick(tx, midnight + 2 * day + 11 * kMinute); });
    CHECK(summaries(*rig.store).size() == 3);
    store_reading(rig, "frozen_import_energy_kwh", midnight + 2 * day, 101990);
    rig.in_tx([&](auto& tx) { return rig.engine->tick(tx, midnight + 2 * day + 26 * kMinute); });
    all = summaries(*rig.store);
    REQUIRE(all.size() == 6);
    CHECK(all[4]["day"] == "2026-12-02");
    CHECK(all[4]["source"] == "frozen");
    CHECK(all[4]["closing_register"] == "1019.90");
    CHECK(all[4]["consumption"] == "9.500000");  // 1019.90 - 1010.40
    // Charged: 23 h 30 min of the 23 h 40 min to 00:10 (9.40 kWh), plus the 0.2 kWh of
    // Dec 1's last reading interval after its midnight. The cost stays what was charged.
    CHECK(all[4]["charged_consumption"] == "9.533803");
    CHECK(all[4]["cost_fen"] == 477);

    // Dec 3: a freeze that is not at midnight (a meter set to freeze at 00:05) is not
    // the day's end; the summary falls back to the readings after its wait.
    store_reading(rig, "frozen_import_energy_kwh", midnight + 3 * day + 5 * kMinute, 102100);
    store_reading(rig, "import_energy_kwh", midnight + 3 * day + 10 * kMinute, 102110);
    rig.in_tx(
        [&](auto& tx) { return rig.engine->tick(tx, midnight + 3 * day + 7 * 60 * kMinute); });
    all = summaries(*rig.store);
    REQUIRE(all.size() == 9);
    CHECK(all[7]["day"] == "2026-12-03");
    CHECK(all[7]["source"] == "readings");
    CHECK(all[7]["closing_register"] == "1020.00");
    CHECK(all[7]["closing_ts"] == "2026-12-02T16:10:00.000Z");
}

TEST_CASE("a supply check records what it saw; a meter moved behind the gateway's back is news") {
    Rig rig;
    const auto check = [&](std::optional<ecmgw::prepaid::Supply> seen, std::int64_t at) {
        ecmgw::prepaid::SupplyCheck judged;
        rig.in_tx([&](auto& tx) -> ecmgw::Result {
            auto r = rig.engine->observe_supply(tx, "E", seen, at);
            if (!r) return ecmgw::unexpected(r.error());
            judged = *r;
            return {};
        });
        return judged;
    };
    using ecmgw::prepaid::Supply;
    rig.in_tx(
        [&](auto& tx) { return rig.engine->observe_switch(tx, "E", true, Supply::On, "", kT0); });
    REQUIRE(rig.observed() == "on");
    // As it should be and as it was: quiet, the time of the fact kept.
    CHECK_FALSE(check(Supply::On, kT0 + kMinute).changed_outside);
    CHECK(rig.tables->supply("E")->value().observed_ms == kT0 + kMinute);
    CHECK(rig.events("supply_changed_outside") == 0);
    // Unknown (a valve moving) changes nothing.
    CHECK_FALSE(check(std::nullopt, kT0 + 2 * kMinute).record);
    CHECK(rig.observed() == "on");
    // Tripped behind its back: recorded, reported, a fresh round of attempts.
    rig.in_tx([&](auto&) -> ecmgw::Result {
        auto row = rig.tables->supply("E")->value();
        row.attempts = 3;
        return rig.tables->put_supply(row);
    });
    CHECK(check(Supply::Off, kT0 + 3 * kMinute).switch_back);
    CHECK(rig.observed() == "off");
    CHECK(rig.tables->supply("E")->value().attempts == 0);
    REQUIRE(rig.events("supply_changed_outside") == 1);
    const auto details = rig.last_event_details("supply_changed_outside");
    CHECK(details["observed"] == "off");
    CHECK(details["previous"] == "on");
    CHECK(details["desired"] == "on");
    CHECK(details["reason"] == "credit");
    CHECK(details["switching_back"] == true);
    // A forced state is what the meter should be: a meter seen in it is no news.
    rig.in_tx([&](auto& tx) -> ecmgw::Result {
        REQUIRE(rig.engine->force_supply(tx, "E", ecmgw::prepaid::Force::Off, "cli:tech", kT0)
                    .has_value());
        return {};
    });
    CHECK_FALSE(check(Supply::Off, kT0 + 4 * kMinute).changed_outside);
    CHECK(rig.events("supply_changed_outside") == 1);
}

TEST_CASE("the reconciler switches back a meter changed outside, never one it is switching") {
    Rig rig("\n[prepaid]\nrelay_min_interval_s = 0\n");
    using ecmgw::bus::CommandResult;
    using ecmgw::bus::SupplyState;
    using Steady = std::chrono::steady_clock;
    struct Asked {
        std::string meter;
        bool on;
        std::promise<CommandResult> result;
    };
    std::vector<Asked> asked;
    ecmgw::core::SupplyReconciler reconciler(
        *rig.engine, *rig.store,
        [&](const std::string& meter, bool on) -> std::optional<std::future<CommandResult>> {
            asked.push_back({meter, on, {}});
            return asked.back().result.get_future();
        });
    const auto answer = [&](std::size_t i, SupplyState state) {
        CommandResult r;
        r.ok = true;
        r.state = state;
        asked.at(i).result.set_value(r);
    };
    const auto observe = [&](SupplyState state, Steady::time_point read_at, std::int64_t now) {
        reconciler.observed({"E", state, read_at}, now);
    };
    reconciler.assert_all();
    reconciler.turn(kT0);
    REQUIRE(asked.size() == 1);
    CHECK(asked[0].on);
    // While the switch is on the bus, what a check saw is not news.
    observe(SupplyState::Off, Steady::now(), kT0 + 1);
    CHECK(rig.events("supply_changed_outside") == 0);
    CHECK(rig.observed() == "unknown");
    const auto before_switch_recorded = Steady::now();
    answer(0, SupplyState::On);
    reconciler.turn(kT0 + 1000);
    REQUIRE(rig.observed() == "on");
    // Read before the switch's result was recorded: it may predate the switch.
    observe(SupplyState::Off, before_switch_recorded, kT0 + 2000);
    CHECK(rig.events("supply_changed_outside") == 0);
    CHECK(rig.observed() == "on");
    // Agrees: quiet, nothing switched.
    observe(SupplyState::On, Steady::now(), kT0 + 3000);
    CHECK(asked.size() == 1);
    CHECK(rig.events("supply_changed_outside") == 0);
    // Tripped behind its back: an event, and switched back at once.
    observe(SupplyState::Off, Steady::now(), kT0 + 4000);
    CHECK(rig.events("supply_changed_outside") == 1);
    REQUIRE(asked.size() == 2);
    CHECK(asked[1].on);
    answer(1, SupplyState::On);
    reconciler.turn(kT0 + 5000);
    CHECK(rig.observed() == "on");
    CHECK(rig.events("supply_restored") == 1);
    // A technician's force off changes what the meter should be: the check follows it.
    rig.in_tx([&](auto& tx) -> ecmgw::Result {
        REQUIRE(rig.engine->force_supply(tx, "E", ecmgw::prepaid::Force::Off, "cli:tech", kT0)
                    .has_value());
        return {};
    });
    reconciler.wake(rig.engine->take_changed_supply());
    reconciler.turn(kT0 + 6000);
    REQUIRE(asked.size() == 3);
    CHECK_FALSE(asked[2].on);
    observe(SupplyState::On, Steady::now(), kT0 + 6500);  // read before the switch ran
    answer(2, SupplyState::Off);
    reconciler.turn(kT0 + 7000);
    observe(SupplyState::Off, Steady::now(), kT0 + 8000);
    CHECK(asked.size() == 3);
    CHECK(rig.events("supply_changed_outside") == 1);
    // Closed by hand while forced off: cut again.
    observe(SupplyState::On, Steady::now(), kT0 + 9000);
    CHECK(rig.events("supply_changed_outside") == 2);
    REQUIRE(asked.size() == 4);
    CHECK_FALSE(asked[3].on);
}
