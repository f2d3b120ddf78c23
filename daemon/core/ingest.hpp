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

// What the core does on the ingest thread besides storing readings: the prepaid
// engine charges readings in their batch's transaction, and between batches it
// runs timed work (supply decisions, switching meters) on the same thread, so
// that one thread writes the store.
class CoreHooks {
  public:
    virtual ~CoreHooks() = default;
    // Inside the transaction that stores `batch`, after its readings. A failure
    // rolls the batch back and it is retried.
    virtual Result on_batch(store::Transaction& tx, const std::vector<store::Reading>& batch) = 0;
    // After that transaction committed.
    virtual void after_commit() = 0;
    // Between batches, at least every `turn_every()`.
    virtual void turn() = 0;
    virtual std::chrono::milliseconds turn_every() const = 0;
};

class Ingest final : public ReadingSink {
  public:
    // `on_committed` runs after each committed batch (the uplink's wake-up).
    // Group commit: a batch is written when `max_batch` readings wait, or
    // `commit_delay` after the first of them arrived. Each commit is an fsync, so
    // gathering a fraction of a second of readings saves most of the store's CPU;
    // what a power cut can cost is that fraction of uncommitted readings, which the
    // meters' cumulative registers make good at the next read.
    Ingest(store::Store& store, std::function<void()> on_committed, std::size_t max_batch = 2000,
           std::chrono::milliseconds commit_delay = std::chrono::milliseconds(200));
    // Set before start(); not owned.
    void set_hooks(CoreHooks* hooks) { hooks_ = hooks; }
    // Runs `job` on the ingest thread, before the next batch (commands use the
    // store through the same single writer as readings).
    void post(std::function<void()> job);
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
    // Runs posted jobs and the hooks' turn; called with `lock` held, returns with it held.
    void run_jobs_and_turn(std::unique_lock<std::mutex>& lock);

    store::Store& store_;
    std::function<void()> on_committed_;
    std::size_t max_batch_;
    std::chrono::milliseconds commit_delay_;
    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<store::Reading> queue_;
    std::deque<std::function<void()>> jobs_;
    CoreHooks* hooks_ = nullptr;
    std::chrono::steady_clock::time_point next_turn_{};
    bool stopping_ = false;
    std::atomic<std::uint64_t> committed_{0};
    std::atomic<std::int64_t> alive_ns_{0};
    std::thread thread_;
};

}  // namespace ecmgw::core
