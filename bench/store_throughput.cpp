// How many readings per second the store takes, by transaction batch size,
// against plain SQLite inserting the same rows in one transaction.
//
//   bench_store_throughput [N=200000] [data-dir] [seconds-per-row=20]
//
// Every row is one reading plus its outbox record (a ~120-byte JSON body), as
// the core writes them. Each batch size gets a fresh database. Small batches pay
// one synced WAL commit per transaction, so a row stops early when it exceeds its
// time budget; the "readings" column says how many it measured.
// Without a data dir the databases go to a temporary directory under the
// current directory: measure on the disk the gateway will use, not on tmpfs.
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "ecmgw/store/store.hpp"

namespace fs = std::filesystem;
using ecmgw::Decimal;
using ecmgw::store::Reading;
using ecmgw::store::Store;

namespace {

struct Options {
    std::int64_t readings = 200000;
    fs::path dir;
    bool own_dir = false;  // created here, so removed at the end
    double budget_s = 20;
};

struct Measurement {
    std::int64_t readings = 0;
    std::int64_t transactions = 0;
    double wall_s = 0;
    double cpu_s = 0;
};

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "bench_store_throughput: %s\n", what.c_str());
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

double peak_rss_mib() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
}

// The i-th reading: 250 meters read round-robin, a plausible energy register.
Reading reading_at(std::int64_t i) {
    char meter[16];
    std::snprintf(meter, sizeof meter, "E-%04d", static_cast<int>(i % 250));
    return Reading{meter, 1'718'000'000'000 + i * 40, "energy_kwh", Decimal{1'234'567 + i, 2}};
}

// The outbox body the core would write for that reading (about 120 bytes).
std::string body_of(const Reading& r) {
    char body[256];
    const int n = std::snprintf(
        body, sizeof body,
        R"({"type":"reading","meter":"%s","ts_ms":%lld,"quantity":"%s","value":"%s","unit":"kWh","quality":"good"})",
        r.meter.c_str(), static_cast<long long>(r.ts_ms), r.quantity.c_str(),
        r.value.to_string().c_str());
    return std::string(body, static_cast<std::size_t>(n));
}

// Wall and CPU time of `work`, which returns what it measured.
template <class Work>
Measurement timed(Work&& work) {
    const double cpu0 = cpu_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    Measurement m = work();
    m.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    m.cpu_s = cpu_seconds() - cpu0;
    return m;
}

std::unique_ptr<Store> fresh_store(const fs::path& path) {
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path.string() + suffix);
    auto store = Store::open(path);
    if (!store) die(store.error().message);
    return std::move(*store);
}

// Through the Store API: one transaction per `batch` readings, each reading
// with its outbox record, as the core writes them.
Measurement through_store(const Options& opt, int batch) {
    auto store = fresh_store(opt.dir / ("store-batch-" + std::to_string(batch) + ".db"));
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(opt.budget_s);
    return timed([&] {
        Measurement m;
        while (m.readings < opt.readings && std::chrono::steady_clock::now() < deadline) {
            auto txn = store->begin();
            if (!txn) die(txn.error().message);
            for (int k = 0; k < batch && m.readings < opt.readings; ++k, ++m.readings) {
                const Reading r = reading_at(m.readings);
                if (auto ok = txn->insert_reading(r); !ok) die(ok.error().message);
                if (auto seq = txn->append_outbox("reading", body_of(r), r.ts_ms); !seq)
                    die(seq.error().message);
            }
            if (auto ok = txn->commit(); !ok) die(ok.error().message);
            ++m.transactions;
        }
        return m;
    });
}

void check(sqlite3* db, int rc, const char* what) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
        die(std::string(what) + ": " + sqlite3_errmsg(db));
}

sqlite3_stmt* prepare(sqlite3* db, const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    check(db, sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr), sql);
    return stmt;
}

// The baseline: the same tables (created by Store::open, so same schema and
// constraints) and the same pragmas, filled by plain SQLite in ONE transaction.
Measurement baseline(const Options& opt) {
    const fs::path path = opt.dir / "baseline.db";
    fresh_store(path).reset();
    sqlite3* db = nullptr;
    check(db, sqlite3_open(path.c_str(), &db), "open");
    for (const char* pragma :
         {"PRAGMA journal_mode = WAL", "PRAGMA synchronous = FULL", "PRAGMA foreign_keys = ON"})
        check(db, sqlite3_exec(db, pragma, nullptr, nullptr, nullptr), pragma);
    sqlite3_stmt* reading =
        prepare(db, "INSERT INTO readings (meter, ts_ms, quantity, value) VALUES (?1, ?2, ?3, ?4)");
    sqlite3_stmt* outbox =
        prepare(db, "INSERT INTO outbox (seq, kind, body, created_ms) VALUES (?1, ?2, ?3, ?4)");
    sqlite3_stmt* counter = prepare(db, "UPDATE sequence SET value = ?1 WHERE name = 'outbox'");

    const Measurement m = timed([&] {
        Measurement out;
        check(db, sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), "begin");
        for (; out.readings < opt.readings; ++out.readings) {
            const Reading r = reading_at(out.readings);
            const std::string value = r.value.to_string();
            const std::string body = body_of(r);
            sqlite3_bind_text(reading, 1, r.meter.c_str(), -1, SQLITE_STATIC);
            sqlite3_bind_int64(reading, 2, r.ts_ms);
            sqlite3_bind_text(reading, 3, r.quantity.c_str(), -1, SQLITE_STATIC);
            sqlite3_bind_text(reading, 4, value.c_str(), -1, SQLITE_STATIC);
            check(db, sqlite3_step(reading), "insert reading");
            sqlite3_reset(reading);
            sqlite3_bind_int64(outbox, 1, out.readings + 1);
            sqlite3_bind_text(outbox, 2, "reading", -1, SQLITE_STATIC);
            sqlite3_bind_text(outbox, 3, body.c_str(), static_cast<int>(body.size()),
                              SQLITE_STATIC);
            sqlite3_bind_int64(outbox, 4, r.ts_ms);
            check(db, sqlite3_step(outbox), "insert outbox");
            sqlite3_reset(outbox);
        }
        sqlite3_bind_int64(counter, 1, out.readings);
        check(db, sqlite3_step(counter), "update counter");
        check(db, sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), "commit");
        out.transactions = 1;
        return out;
    });
    for (sqlite3_stmt* stmt : {reading, outbox, counter}) sqlite3_finalize(stmt);
    sqlite3_close(db);
    return m;
}

Options parse_options(int argc, char** argv) {
    Options opt;
    if (argc > 1) opt.readings = std::strtoll(argv[1], nullptr, 10);
    if (opt.readings <= 0) die("N must be a positive number of readings");
    if (argc > 3) opt.budget_s = std::strtod(argv[3], nullptr);
    if (argc > 2) {
        opt.dir = argv[2];
        std::error_code ec;
        fs::create_directories(opt.dir, ec);
        if (ec) die("cannot create " + opt.dir.string() + ": " + ec.message());
        return opt;
    }
    std::string pattern = (fs::current_path() / "bench-store-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) die("cannot create a directory under the current one");
    opt.dir = pattern;
    opt.own_dir = true;
    return opt;
}

void print_row(const char* label, const Measurement& m, double baseline_rate) {
    const double rate = static_cast<double>(m.readings) / m.wall_s;
    std::printf("%-9s %9lld %8lld %9.2f %12.0f %9.3f %12.1f %10.1f\n", label,
                static_cast<long long>(m.readings), static_cast<long long>(m.transactions),
                m.wall_s, rate, rate / baseline_rate,
                m.cpu_s * 1e6 / static_cast<double>(m.transactions), peak_rss_mib());
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
    const Options opt = parse_options(argc, argv);
    std::printf(
        "bench_store_throughput: N=%lld readings (+1 outbox record each, ~%zu-byte body), "
        "SQLite %s, WAL, synchronous=FULL\n",
        static_cast<long long>(opt.readings), body_of(reading_at(0)).size(), sqlite3_libversion());
    std::printf("data dir %s, at most %.0f s per row\n\n", opt.dir.c_str(), opt.budget_s);
    std::printf("%-9s %9s %8s %9s %12s %9s %12s %10s\n", "batch", "readings", "txns", "seconds",
                "readings/s", "vs base", "CPU us/txn", "peak RSS MiB");

    const Measurement base = baseline(opt);
    const double base_rate = static_cast<double>(base.readings) / base.wall_s;
    print_row("baseline", base, base_rate);
    for (int batch : {1, 10, 100, 1000}) {
        const std::string label = std::to_string(batch);
        print_row(label.c_str(), through_store(opt, batch), base_rate);
    }

    std::printf(
        "\nbaseline = plain SQLite, same tables and pragmas, all N in one transaction.\n"
        "peak RSS is the process's high-water mark so far (getrusage).\n");
    if (opt.own_dir) fs::remove_all(opt.dir);
    return 0;
}
