// How many readings per second the core stores, rates and commits with the
// prepaid engine in the loop, in batches as the ingest writes them.
//
//   bench_prepaid_rating [N=400000] [data-dir] [batch=2000] [page-cache-KiB]
//
// 2000 DL/T 645 meters with relays on 1000 accounts (two meters each); half the
// accounts are on a tiered time-of-use tariff (peak/flat/valley, two tiers), half
// on a flat one. Every batch is written exactly as Ingest::write_batch writes it:
// insert_reading + a reading outbox record (reading_body) for each reading, then
// the prepaid core's on_batch (PrepaidEngine::on_reading for each), then one commit
// (WAL, synchronous=FULL, the real Store::open), then the core's after_commit:
//   realistic  each meter turn yields 5 quantities (energy_kwh, voltage, current,
//              power, power factor) of which energy_kwh is billed; a turn is a
//              simulated minute and the register moves 0.00..0.05 kWh, so some
//              billing readings charge nothing (the sub-fen carry) and the rest a
//              few fen;
//   worst      every reading is a billing reading and every one charges (a ledger
//              row, its outbox record, daily usage, supply decisions).
// Before timing, each meter's first reading (where charging starts) is written.
// The breakdown shows where a batch's time goes: storing the readings and their
// outbox records, rating (on_batch), and the commit (the WAL fsync) with after_commit.
// The gateway's zone is Asia/Shanghai (TZ is set for this process, as the daemon does).
// Without a data dir the database goes to a temporary directory under the current
// directory: measure on the disk the gateway will use, not on tmpfs. page-cache-KiB
// sets PRAGMA cache_size on the store's connection, to see what a bigger page cache
// than SQLite's default (2000 KiB, which Store::open keeps) would change.
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <future>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <system_error>
#include <vector>

#include <spdlog/spdlog.h>

#include "core/outbox_format.hpp"
#include "core/prepaid_core.hpp"
#include "ecmgw/config/config.hpp"
#include "ecmgw/store/prepaid_tables.hpp"
#include "ecmgw/store/store.hpp"

namespace fs = std::filesystem;
using ecmgw::Decimal;
using ecmgw::core::PrepaidCore;
using ecmgw::store::Reading;
using ecmgw::store::Store;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kAccounts = 1000;
constexpr int kMeters = 2000;
// 2026-11-30 07:40 local (UTC+8), a Monday: the run crosses the 08:00 valley→peak
// boundary of the time-of-use tariff.
constexpr std::int64_t kT0 = 1'795'996'800'000 - 8 * 3'600'000 + (7 * 60 + 40) * 60'000;
constexpr std::int64_t kTurnMs = 60'000;  // a meter is read once a simulated minute

struct Options {
    std::int64_t readings = 400000;
    fs::path dir;
    bool own_dir = false;
    std::size_t batch = 2000;
    std::int64_t cache_kib = 0;  // 0: SQLite's default
};

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "bench_prepaid_rating: %s\n", what.c_str());
    std::exit(1);
}

double cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto seconds = [](const timeval& tv) {
        return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
    };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::string config_text() {
    std::string c = R"(
[gateway]
id = "bench"
data_dir = "/tmp"
timezone = "Asia/Shanghai"
[[bus]]
name = "b"
device = "/dev/null"
[[tariff]]
id = "res-flat"
utility = "electricity"
price = "0.5283"
[[tariff]]
id = "res-tiered-tou"
utility = "electricity"
periods = ["08:00-11:00 peak", "11:00-18:00 flat", "18:00-23:00 peak", "23:00-08:00 valley"]
tiers = [
  { up_to = "10", prices = { peak = "0.6173", flat = "0.5283", valley = "0.3583" } },
  { prices = { peak = "0.6673", flat = "0.5783", valley = "0.4083" } },
]
)";
    char buf[512];
    for (int a = 0; a < kAccounts; ++a) {
        std::snprintf(buf, sizeof buf,
                      "[[account]]\nid = \"A-%04d\"\ntariff = \"%s\"\n"
                      "opening_balance_fen = 100000000\nrestore_above_fen = 100\n",
                      a, a % 2 == 0 ? "res-tiered-tou" : "res-flat");
        c += buf;
    }
    for (int m = 0; m < kMeters; ++m) {
        std::snprintf(buf, sizeof buf,
                      "[[meter]]\nid = \"E-%04d\"\nbus = \"b\"\nprotocol = \"dlt645-2007\"\n"
                      "address = \"%012d\"\naccount = \"A-%04d\"\nrelay = true\n"
                      "max_rate_per_hour = \"100\"\nquantities = [\"energy_kwh\", "
                      "\"voltage_a_v\", \"current_a_a\", \"active_power_kw\", "
                      "\"power_factor\"]\n",
                      m, m + 1, m / 2);
        c += buf;
    }
    return c;
}

// Where the time of the timed batches went.
struct Breakdown {
    std::int64_t readings = 0;
    std::int64_t billing = 0;
    std::int64_t batches = 0;
    double store_s = 0;   // insert_reading + append_outbox
    double rate_s = 0;    // PrepaidCore::on_batch
    double commit_s = 0;  // commit + after_commit
    double wall_s = 0;
    double cpu_s = 0;
    std::int64_t ledger_rows = 0;
};

class Bench {
  public:
    Bench(const fs::path& path, std::int64_t cache_kib) {
        auto parsed = ecmgw::config::parse_config(config_text(), "bench.toml");
        if (!parsed) {
            for (const auto& e : parsed.error())
                std::fprintf(stderr, "%s\n", e.to_string().c_str());
            die("the bench's config does not parse");
        }
        cfg_ = std::move(*parsed);
        for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path.string() + suffix);
        auto opened = Store::open(path);
        if (!opened) die(opened.error().message);
        store_ = std::move(*opened);
        if (cache_kib > 0) {
            const std::string pragma = "PRAGMA cache_size = -" + std::to_string(cache_kib);
            if (sqlite3_exec(store_->handle(), pragma.c_str(), nullptr, nullptr, nullptr) !=
                SQLITE_OK)
                die(pragma + ": " + sqlite3_errmsg(store_->handle()));
        }
        // No meter is on a bus here: supply changes are decided and stored, not sent.
        auto core = PrepaidCore::create(cfg_, *store_, [](const std::string&, bool) {
            return std::optional<std::future<ecmgw::bus::CommandResult>>{};
        });
        if (!core) die(core.error().message);
        core_ = std::move(*core);
        if (auto r = core_->start(kT0 - kTurnMs); !r) die(r.error().message);
        register_.assign(kMeters, 0);
        std::mt19937 rng(42);
        for (auto& r : register_) r = 100000 + static_cast<std::int64_t>(rng() % 900000);
        for (int m = 0; m < kMeters; ++m) {
            char id[16];
            std::snprintf(id, sizeof id, "E-%04d", m);
            ids_.emplace_back(id);
        }
    }

    // One batch as Ingest::write_batch writes it, timed by part.
    void write(const std::vector<Reading>& batch, Breakdown& b) {
        const auto t0 = Clock::now();
        auto tx = store_->begin();
        if (!tx) die(tx.error().message);
        for (const auto& r : batch) {
            if (auto ok = tx->insert_reading(r); !ok) die(ok.error().message);
            if (auto seq = tx->append_outbox(ecmgw::core::kKindReading,
                                             ecmgw::core::reading_body(r), r.ts_ms);
                !seq)
                die(seq.error().message);
        }
        const auto t1 = Clock::now();
        if (auto ok = core_->on_batch(*tx, batch); !ok) die(ok.error().message);
        const auto t2 = Clock::now();
        if (auto ok = tx->commit(); !ok) die(ok.error().message);
        core_->after_commit();
        const auto t3 = Clock::now();
        using D = std::chrono::duration<double>;
        b.store_s += D(t1 - t0).count();
        b.rate_s += D(t2 - t1).count();
        b.commit_s += D(t3 - t2).count();
        b.readings += static_cast<std::int64_t>(batch.size());
        b.batches += 1;
    }

    // The next meter turn's readings: the billing register, and in the realistic
    // mix four instantaneous values.
    void turn(int meter, std::int64_t ts, bool worst, std::mt19937& rng,
              std::vector<Reading>& out) {
        const std::string& id = ids_[static_cast<std::size_t>(meter)];
        // realistic: 0..5 hundredths of a kWh a minute (0..3 kW); worst: 10..30
        // hundredths, so that every reading charges at least a few fen.
        register_[static_cast<std::size_t>(meter)] +=
            worst ? 10 + static_cast<std::int64_t>(rng() % 21)
                  : static_cast<std::int64_t>(rng() % 6);
        out.push_back(
            Reading{id, ts, "energy_kwh", Decimal{register_[static_cast<std::size_t>(meter)], 2}});
        if (worst) return;
        out.push_back(Reading{id, ts, "voltage_a_v",
                              Decimal{2150 + static_cast<std::int64_t>(rng() % 150), 1}});
        out.push_back(
            Reading{id, ts, "current_a_a", Decimal{static_cast<std::int64_t>(rng() % 15000), 3}});
        out.push_back(Reading{id, ts, "active_power_kw",
                              Decimal{static_cast<std::int64_t>(rng() % 30000), 4}});
        out.push_back(Reading{id, ts, "power_factor",
                              Decimal{850 + static_cast<std::int64_t>(rng() % 150), 3}});
    }

    std::int64_t ledger_count() {
        sqlite3_stmt* stmt = nullptr;
        if (sqlite3_prepare_v2(store_->handle(), "SELECT count(*) FROM ledger", -1, &stmt,
                               nullptr) != SQLITE_OK ||
            sqlite3_step(stmt) != SQLITE_ROW)
            die(std::string("counting ledger rows: ") + sqlite3_errmsg(store_->handle()));
        const std::int64_t n = sqlite3_column_int64(stmt, 0);
        sqlite3_finalize(stmt);
        return n;
    }

    // Balance = sum of the ledger for every account, checked after the run.
    void check_books() {
        auto& tables = core_->engine().tables();
        auto accounts = tables.accounts();
        if (!accounts) die(accounts.error().message);
        for (const auto& a : *accounts) {
            auto sum = tables.ledger_sum(a.id);
            if (!sum) die(sum.error().message);
            if (*sum != a.balance_fen)
                die("account " + a.id + ": balance " + std::to_string(a.balance_fen) +
                    " but ledger sum " + std::to_string(*sum));
        }
    }

    // Readings arrive meter by meter, a turn at a time, in batches of `batch`;
    // a full round of the meters is one simulated minute.
    Breakdown run(std::int64_t n, std::size_t batch_size, bool worst) {
        std::mt19937 rng(worst ? 7 : 3);
        // Where charging starts: one first reading per meter, untimed.
        {
            Breakdown ignored;
            std::vector<Reading> first;
            for (int m = 0; m < kMeters; ++m) {
                turn(m, ts_, true, rng, first);
                if (first.size() >= batch_size) {
                    write(first, ignored);
                    first.clear();
                }
            }
            if (!first.empty()) write(first, ignored);
        }
        const std::int64_t ledger_before = ledger_count();
        Breakdown b;
        std::vector<Reading> batch;
        batch.reserve(batch_size + 8);
        int meter = 0;
        const double cpu0 = cpu_seconds();
        const auto t0 = Clock::now();
        while (b.readings < n) {
            if (meter == 0) ts_ += kTurnMs;
            turn(meter, ts_ + meter * 20, worst, rng, batch);
            b.billing += 1;
            meter = (meter + 1) % kMeters;
            if (batch.size() >= batch_size) {
                write(batch, b);
                batch.clear();
            }
        }
        if (!batch.empty()) write(batch, b);
        b.wall_s = since(t0);
        b.cpu_s = cpu_seconds() - cpu0;
        b.ledger_rows = ledger_count() - ledger_before;
        check_books();
        return b;
    }

  private:
    ecmgw::config::Config cfg_;
    std::unique_ptr<Store> store_;
    std::unique_ptr<PrepaidCore> core_;
    std::vector<std::int64_t> register_;
    std::vector<std::string> ids_;
    std::int64_t ts_ = kT0;
};

Options parse_options(int argc, char** argv) {
    Options opt;
    if (argc > 1) opt.readings = std::strtoll(argv[1], nullptr, 10);
    if (opt.readings <= 0) die("N must be a positive number of readings");
    if (argc > 3) opt.batch = static_cast<std::size_t>(std::strtoul(argv[3], nullptr, 10));
    if (opt.batch == 0) die("the batch must hold at least one reading");
    if (argc > 4) opt.cache_kib = std::strtoll(argv[4], nullptr, 10);
    if (argc > 2 && argv[2][0] != '\0') {
        opt.dir = argv[2];
        std::error_code ec;
        fs::create_directories(opt.dir, ec);
        if (ec) die("cannot create " + opt.dir.string() + ": " + ec.message());
        return opt;
    }
    std::string pattern = (fs::current_path() / "bench-prepaid-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) die("cannot create a directory under the current one");
    opt.dir = pattern;
    opt.own_dir = true;
    return opt;
}

void print(const char* label, const Breakdown& b) {
    const double parts = b.store_s + b.rate_s + b.commit_s;
    std::printf("%s: %lld readings (%lld billing) in %lld transactions, %.2f s, CPU %.2f s\n",
                label, static_cast<long long>(b.readings), static_cast<long long>(b.billing),
                static_cast<long long>(b.batches), b.wall_s, b.cpu_s);
    std::printf("  readings stored+rated per second (all quantities) %10.0f\n",
                static_cast<double>(b.readings) / b.wall_s);
    std::printf("  billing readings rated per second                 %10.0f\n",
                static_cast<double>(b.billing) / b.wall_s);
    std::printf("  ledger rows (charges) written                     %10lld\n",
                static_cast<long long>(b.ledger_rows));
    std::printf(
        "  per transaction: store %.1f ms (%.0f%%), rate %.1f ms (%.0f%%), "
        "commit %.1f ms (%.0f%%)\n",
        b.store_s * 1e3 / static_cast<double>(b.batches), 100 * b.store_s / parts,
        b.rate_s * 1e3 / static_cast<double>(b.batches), 100 * b.rate_s / parts,
        b.commit_s * 1e3 / static_cast<double>(b.batches), 100 * b.commit_s / parts);
    std::printf("  rating alone: %.1f us per billing reading\n",
                b.rate_s * 1e6 / static_cast<double>(b.billing));
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
    spdlog::set_level(spdlog::level::warn);  // the engine's event lines are info
    ::setenv("TZ", "Asia/Shanghai", 1);      // the gateway's zone, as the daemon sets it
    ::tzset();
    const Options opt = parse_options(argc, argv);
    std::printf(
        "bench_prepaid_rating: %d meters (relay) on %d accounts, tiered TOU + flat "
        "tariffs, batches of %zu readings, WAL, synchronous=FULL\n",
        kMeters, kAccounts, opt.batch);
    std::printf("data dir %s, page cache %s\n\n", opt.dir.c_str(),
                opt.cache_kib > 0 ? (std::to_string(opt.cache_kib) + " KiB").c_str()
                                  : "SQLite's default (2000 KiB)");
    {
        Bench bench(opt.dir / "realistic.db", opt.cache_kib);
        print("realistic (5 quantities a meter turn, 1 billed)",
              bench.run(opt.readings, opt.batch, false));
    }
    std::printf("\n");
    {
        Bench bench(opt.dir / "worst.db", opt.cache_kib);
        print("worst case (every reading billed, every one charges)",
              bench.run(opt.readings / 2, opt.batch, true));
    }
    std::printf("\nbalance = sum of ledger checked for every account after each run.\n");
    if (opt.own_dir) fs::remove_all(opt.dir);
    return 0;
}
