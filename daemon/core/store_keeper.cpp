#include "core/store_keeper.hpp"

#include <spdlog/spdlog.h>

#include <memory>

#include "ecmgw/store/store.hpp"
#include "platform/thread_name.hpp"
#include "platform/wall_clock.hpp"

namespace ecmgw::core {

namespace {
// The first look waits until start-up (first reads, supply assertion) is done.
constexpr std::chrono::seconds kFirstLook{5};
constexpr std::int64_t kDayMs = 86'400'000;
}  // namespace

StoreKeeper::StoreKeeper(std::filesystem::path database, int retention_days)
    : database_(std::move(database)), retention_ms_(retention_days * kDayMs) {}

StoreKeeper::~StoreKeeper() { stop(); }

void StoreKeeper::start() {
    thread_ = std::thread([this] {
        platform::name_this_thread("retention");
        run();
    });
}

void StoreKeeper::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
}

void StoreKeeper::run() {
    std::unique_ptr<store::Store> store;
    std::int64_t readings = 0, events = 0, charges = 0;
    std::chrono::steady_clock::duration pause = kFirstLook;
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, pause, [&] { return stopping_; })) {
        lock.unlock();
        pause = kIdle;
        if (!store) {
            auto opened = store::Store::open(database_);
            if (opened) {
                store = std::move(*opened);
            } else {
                spdlog::warn("retention: {}; trying again in {} min", opened.error().message,
                             kIdle.count());
            }
        }
        if (store) {
            // A failure (a full disk: deleting needs journal space too) is tried
            // again later; nothing is lost by pruning late.
            auto step = store->prune(platform::wall_ms() - retention_ms_, kBatchRows);
            if (!step) {
                spdlog::warn("retention: {}; trying again in {} min", step.error().message,
                             kIdle.count());
            } else {
                readings += step->readings;
                events += step->events;
                charges += step->ledger;
                if (step->more) {
                    pause = kBetweenBatches;
                } else if (readings + events + charges > 0) {
                    spdlog::info(
                        "retention: deleted {} readings and {} events, and folded {} ledger "
                        "charges into their accounts' totals, older than {} days (already "
                        "acknowledged by the broker)",
                        readings, events, charges, retention_ms_ / kDayMs);
                    readings = events = charges = 0;
                }
            }
        }
        lock.lock();
    }
}

}  // namespace ecmgw::core
