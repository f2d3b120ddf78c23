// The core's write path: readings from every bus are queued here and written
// by one thread, each batch in one transaction together with its outbox records.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "core/reading_sink.hpp"
#include "ecmgw/store/store.hpp"

namespace ecmgw::core {

class Ingest final : public ReadingSink {
  public:
    // `on_committed` runs after each committed batch (the uplink's wake-up).
    Ingest(store::Store& store, std::function<void()> on_committed, std::size_t max_batch = 2000);
    ~Ingest() override;

    void accept(std::vector<store::Reading> readings) override;
    void start();
    // Writes what is queued, then stops.
    void stop();

    std::uint64_t committed() const { return committed_.load(); }
    std::chrono::steady_clock::time_point last_alive() const;

  private:
    void run();
    bool write_batch(const std::vector<store::Reading>& batch);

    store::Store& store_;
    std::function<void()> on_committed_;
    std::size_t max_batch_;
    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<store::Reading> queue_;
    bool stopping_ = false;
    std::atomic<std::uint64_t> committed_{0};
    std::atomic<std::int64_t> alive_ns_{0};
    std::thread thread_;
};

}  // namespace ecmgw::core
