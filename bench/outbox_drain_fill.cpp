// Fills a gateway store's outbox with N reading records through the store API, in
// transactions of 10,000, as a long outage would leave it: the starting point of
// bench/outbox_drain.
//
//     bench_outbox_fill DATABASE N
#include <fmt/core.h>

#include <chrono>
#include <cstdlib>
#include <string>

#include "ecmgw/store/store.hpp"

int main(int argc, char** argv) {
    if (argc != 3) {
        fmt::print(stderr, "usage: bench_outbox_fill DATABASE N\n");
        return 2;
    }
    const long n = std::strtol(argv[2], nullptr, 10);
    auto store = ecmgw::store::Store::open(argv[1]);
    if (!store) {
        fmt::print(stderr, "{}\n", store.error().message);
        return 1;
    }
    const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    constexpr long kPerTransaction = 10000;
    for (long done = 0; done < n;) {
        auto tx = (*store)->begin();
        if (!tx) {
            fmt::print(stderr, "{}\n", tx.error().message);
            return 1;
        }
        for (long i = 0; i < kPerTransaction && done < n; ++i, ++done) {
            const std::string body = fmt::format(
                R"({{"meter":"E-{:04d}","ts":"2026-11-24T04:34:56.123Z","quantity":"energy_kwh","value":{}.{:02d}}})",
                done % 250 + 1, 10000 + done / 250, done % 100);
            if (auto r = tx->append_outbox("reading", body, now_ms); !r) {
                fmt::print(stderr, "{}\n", r.error().message);
                return 1;
            }
        }
        if (auto r = tx->commit(); !r) {
            fmt::print(stderr, "{}\n", r.error().message);
            return 1;
        }
    }
    return 0;
}
