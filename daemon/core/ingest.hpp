// The core's write path: readings and bus events from every bus are queued here
// and written by one thread, each batch in one transaction together with its
// outbox records.
// The same transaction keeps the outbox under its cap and reports what the store
// could not do (outbox_dropped, store_write_failed).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

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
    // A bus read a switchable meter's relay or valve state between switches.
    virtual void supply_observed(const SupplyObservation& observation) = 0;
    // Between batches, at least every `turn_every()`.
    virtual void turn() = 0;
    virtual std::chrono::milliseconds turn_every() const = 0;
    // The account `meter` is charged to (empty: none), named in its bus events as
    // in the engine's own.
    virtual std::string account_of(const std::string& meter) const = 0;
};

// The store's bounds as the ingest thread applies them ([store] in the config).
struct IngestLimits {
    // The outbox's bodies may take this many bytes; 0 = no cap. A batch that takes
    // it over drops the oldest records down to 95% of it (store::trim_outbox), so
    // that drops, each an event, come in a few large steps rather than every batch.
    std::int64_t outbox_cap_bytes = 0;
    // Readings held in memory (queued and being retried) while the store cannot be
    // written; beyond it the oldest queued are discarded and reported.
    std::size_t max_pending = 100000;
    // Bus events held likewise. They come one per state change, so this is only
    // reached by a long outage of the store on a box whose meters keep flapping.
    std::size_t max_pending_events = 10000;
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
    // Set before start().
    void set_limits(const IngestLimits& limits) { limits_ = limits; }
    // Runs `job` on the ingest thread, before the next batch (commands use the
    // store through the same single writer as readings).
    void post(std::function<void()> job);
    ~Ingest() override;

    void accept(std::vector<store::Reading> readings) override;
    // Written with the next batch (at once when no readings wait), after its readings.
    void accept_event(BusEvent event) override;
    // Hands the observation to the hooks on the ingest thread (a posted job).
    void observe_supply(SupplyObservation observation) override;
    void start();
    // Writes what is queued, then stops.
    void stop();

    std::uint64_t committed() const { return committed_.load(); }
    // Batches that could not be written (each kept and retried), since the start.
    std::uint64_t write_failures() const { return write_failures_.load(); }
    std::chrono::steady_clock::time_point last_alive() const;

  private:
    // The span of failed writes not yet reported; ingest thread only.
    struct Outage {
        std::uint64_t failures = 0;
        std::int64_t since_ms = 0;
        std::string first_error;
        std::string last_error;
        std::chrono::steady_clock::time_point last_logged{};
        std::uint64_t discarded = 0;  // readings dropped from memory meanwhile
        std::int64_t discarded_from_ms = 0;
        std::int64_t discarded_to_ms = 0;
        std::uint64_t events_discarded = 0;
        bool active() const { return failures > 0 || discarded > 0 || events_discarded > 0; }
    };

    void run();
    Result write_batch(const std::vector<store::Reading>& batch,
                       const std::vector<BusEvent>& events);
    Result write_events(store::Transaction& tx, const std::vector<BusEvent>& events);
    Result report(store::Transaction& tx, std::int64_t now_ms);
    void note_failure(const std::string& error, std::size_t held);
    // Called with `mutex_` held.
    void bound_queue();
    void bound_events();
    // Runs posted jobs and the hooks' turn; called with `lock` held, returns with it held.
    void run_jobs_and_turn(std::unique_lock<std::mutex>& lock);

    store::Store& store_;
    std::function<void()> on_committed_;
    std::size_t max_batch_;
    std::chrono::milliseconds commit_delay_;
    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<store::Reading> queue_;
    std::deque<BusEvent> events_;
    std::deque<std::function<void()>> jobs_;
    CoreHooks* hooks_ = nullptr;
    IngestLimits limits_;
    // The batch being written; kept across failed attempts and retried as it is.
    std::vector<store::Reading> inflight_;
    std::vector<BusEvent> inflight_events_;
    Outage outage_;
    std::chrono::steady_clock::time_point next_turn_{};
    bool stopping_ = false;
    std::atomic<std::uint64_t> committed_{0};
    std::atomic<std::uint64_t> write_failures_{0};
    std::atomic<std::int64_t> alive_ns_{0};
    std::thread thread_;
};

}  // namespace ecmgw::core
