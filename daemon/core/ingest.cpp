#include "core/ingest.hpp"
#include "platform/thread_name.hpp"
#include "platform/wall_clock.hpp"

#include <spdlog/spdlog.h>

#include "core/outbox_format.hpp"

namespace ecmgw::core {

using platform::wall_ms;

namespace {
using Clock = std::chrono::steady_clock;
constexpr std::chrono::seconds kRetryAfterStoreError{2};

}  // namespace

Ingest::Ingest(store::Store& store, std::function<void()> on_committed, std::size_t max_batch,
               std::chrono::milliseconds commit_delay)
    : store_(store),
      on_committed_(std::move(on_committed)),
      max_batch_(max_batch),
      commit_delay_(commit_delay) {}

Ingest::~Ingest() { stop(); }

void Ingest::accept(std::vector<store::Reading> readings) {
    {
        std::lock_guard lock(mutex_);
        for (auto& r : readings) queue_.push_back(std::move(r));
    }
    ready_.notify_one();
}

void Ingest::post(std::function<void()> job) {
    {
        std::lock_guard lock(mutex_);
        jobs_.push_back(std::move(job));
    }
    ready_.notify_one();
}

void Ingest::start() {
    alive_ns_ = Clock::now().time_since_epoch().count();
    thread_ = std::thread([this] {
        platform::name_this_thread("ingest");
        run();
    });
}

void Ingest::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    ready_.notify_one();
    if (thread_.joinable()) thread_.join();
}

Clock::time_point Ingest::last_alive() const {
    return Clock::time_point(Clock::duration(alive_ns_.load()));
}

bool Ingest::write_batch(const std::vector<store::Reading>& batch) {
    auto tx = store_.begin();
    if (!tx) {
        spdlog::error("store: {}", tx.error().message);
        return false;
    }
    const auto now = wall_ms();
    for (const auto& r : batch) {
        if (auto ok = tx->insert_reading(r); !ok) {
            spdlog::error("store: {}", ok.error().message);
            return false;
        }
        if (auto seq = tx->append_outbox(kKindReading, reading_body(r), now); !seq) {
            spdlog::error("store: {}", seq.error().message);
            return false;
        }
    }
    if (hooks_ != nullptr) {
        if (auto ok = hooks_->on_batch(*tx, batch); !ok) {
            spdlog::error("prepaid: {}", ok.error().message);
            return false;
        }
    }
    if (auto ok = tx->commit(); !ok) {
        spdlog::error("store: {}", ok.error().message);
        return false;
    }
    if (hooks_ != nullptr) hooks_->after_commit();
    return true;
}

void Ingest::run_jobs_and_turn(std::unique_lock<std::mutex>& lock) {
    while (!jobs_.empty()) {
        auto job = std::move(jobs_.front());
        jobs_.pop_front();
        lock.unlock();
        job();
        lock.lock();
    }
    if (hooks_ == nullptr) return;
    const auto now = Clock::now();
    if (now < next_turn_) return;
    lock.unlock();
    hooks_->turn();
    lock.lock();
    next_turn_ = Clock::now() + hooks_->turn_every();
}

void Ingest::run() {
    std::unique_lock lock(mutex_);
    while (true) {
        const auto wait =
            hooks_ != nullptr
                ? std::min<Clock::duration>(
                      std::chrono::seconds(1),
                      std::max<Clock::duration>(next_turn_ - Clock::now(), Clock::duration{}))
                : Clock::duration(std::chrono::seconds(1));
        ready_.wait_for(lock, wait, [&] { return stopping_ || !queue_.empty() || !jobs_.empty(); });
        alive_ns_ = Clock::now().time_since_epoch().count();
        if (!stopping_) run_jobs_and_turn(lock);
        if (queue_.empty()) {
            if (stopping_) return;
            continue;
        }
        // A command (a job) ends the gathering: a top-up must not wait for readings.
        const auto gather_until = Clock::now() + commit_delay_;
        ready_.wait_until(lock, gather_until, [&] {
            return stopping_ || queue_.size() >= max_batch_ || !jobs_.empty();
        });
        const std::size_t n = std::min(queue_.size(), max_batch_);
        std::vector<store::Reading> batch(
            std::make_move_iterator(queue_.begin()),
            std::make_move_iterator(queue_.begin() + static_cast<long>(n)));
        lock.unlock();
        const bool ok = write_batch(batch);
        lock.lock();
        if (ok) {
            queue_.erase(queue_.begin(), queue_.begin() + static_cast<long>(n));
            committed_ += n;
            lock.unlock();
            on_committed_();
            lock.lock();
        } else if (!stopping_) {
            // Keep the readings queued and try again: nothing is dropped.
            ready_.wait_for(lock, kRetryAfterStoreError, [&] { return stopping_; });
        } else {
            spdlog::error("store: {} readings not written at shutdown", queue_.size());
            return;
        }
    }
}

}  // namespace ecmgw::core
