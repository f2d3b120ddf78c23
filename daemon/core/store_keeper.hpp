// Local retention: a thread of its own, with its own store connection, deletes
// readings, events and ledger charges older than [store] retention_days once the broker has
// acknowledged them, a few thousand rows per transaction with a pause between,
// so that the ingest thread (the store's main writer) waits at most for one
// small transaction. Ledger charges are folded into their account's total
// (store schema v5); top-ups, refunds and adjustments are never pruned.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <thread>

namespace ecmgw::core {

class StoreKeeper {
  public:
    StoreKeeper(std::filesystem::path database, int retention_days);
    ~StoreKeeper();
    StoreKeeper(const StoreKeeper&) = delete;
    StoreKeeper& operator=(const StoreKeeper&) = delete;

    void start();
    void stop();

    // Rows one transaction deletes at most, and the pause between two
    // transactions while there is more to delete.
    static constexpr std::size_t kBatchRows = 2000;
    static constexpr std::chrono::seconds kBetweenBatches{1};
    // How often it looks again once everything due is deleted.
    static constexpr std::chrono::minutes kIdle{10};

  private:
    void run();

    std::filesystem::path database_;
    std::int64_t retention_ms_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace ecmgw::core
