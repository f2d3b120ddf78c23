#include "core/ingest.hpp"
#include "platform/thread_name.hpp"
#include "platform/wall_clock.hpp"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "core/outbox_format.hpp"

namespace ecmgw::core {

using platform::wall_ms;

namespace {
using Clock = std::chrono::steady_clock;
constexpr std::chrono::seconds kRetryAfterStoreError{2};
// While writes keep failing, the log says so this often rather than every attempt.
constexpr std::chrono::seconds kRemindEvery{60};

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

Result Ingest::write_batch(const std::vector<store::Reading>& batch) {
    auto tx = store_.begin();
    if (!tx) return unexpected(tx.error());
    const auto now = wall_ms();
    for (const auto& r : batch) {
        if (auto ok = tx->insert_reading(r); !ok) return ok;
        if (auto seq = tx->append_outbox(kKindReading, reading_body(r), now); !seq)
            return unexpected(seq.error());
    }
    if (hooks_ != nullptr) {
        if (auto ok = hooks_->on_batch(*tx, batch); !ok)
            return fail("prepaid: " + ok.error().message);
    }
    if (auto ok = report(*tx, now); !ok) return ok;
    std::vector<store::OutboxDrop> drops;
    if (limits_.outbox_cap_bytes > 0) {
        auto trimmed =
            tx->trim_outbox(limits_.outbox_cap_bytes, limits_.outbox_cap_bytes / 20 * 19);
        if (!trimmed) return unexpected(trimmed.error());
        drops = std::move(*trimmed);
        for (const auto& d : drops) {
            const nlohmann::json details = {
                {"kind", d.kind},         {"first_seq", d.first_seq},
                {"last_seq", d.last_seq}, {"count", d.count},
                {"bytes", d.bytes},       {"cap_bytes", limits_.outbox_cap_bytes}};
            auto seq = tx->append_event(now, store::kEventOutboxDropped,
                                        event_body(store::kEventOutboxDropped, now, details));
            if (!seq) return unexpected(seq.error());
        }
    }
    if (auto ok = tx->commit(); !ok) return ok;
    if (outage_.active()) {
        spdlog::warn(
            "store: writing again after {} s ({} failed attempts, {} readings discarded); "
            "reported as event {}",
            (now - outage_.since_ms) / 1000, outage_.failures, outage_.discarded,
            store::kEventStoreWriteFailed);
        outage_ = Outage{};
    }
    for (const auto& d : drops)
        spdlog::warn(
            "store: the outbox was over its cap of {} bytes ([store] outbox_max_mb): dropped {} "
            "{} records, seq {}..{} ({} bytes), reported as event {}",
            limits_.outbox_cap_bytes, d.count, d.kind, d.first_seq, d.last_seq, d.bytes,
            store::kEventOutboxDropped);
    if (hooks_ != nullptr) hooks_->after_commit();
    return {};
}

// The first transaction that gets through after failures says what happened, so
// the cloud learns of the gap in the readings' times (not in the seqs: nothing
// that failed took a seq).
Result Ingest::report(store::Transaction& tx, std::int64_t now_ms) {
    if (!outage_.active()) return {};
    nlohmann::json details = {{"error", outage_.first_error},
                              {"since", rfc3339_utc(outage_.since_ms)},
                              {"until", rfc3339_utc(now_ms)},
                              {"failed_attempts", outage_.failures},
                              {"readings_discarded", outage_.discarded}};
    if (outage_.last_error != outage_.first_error) details["last_error"] = outage_.last_error;
    if (outage_.discarded > 0) {
        details["discarded_from"] = rfc3339_utc(outage_.discarded_from_ms);
        details["discarded_to"] = rfc3339_utc(outage_.discarded_to_ms);
    }
    auto seq = tx.append_event(now_ms, store::kEventStoreWriteFailed,
                               event_body(store::kEventStoreWriteFailed, now_ms, details));
    if (!seq) return unexpected(seq.error());
    return {};
}

void Ingest::note_failure(const std::string& error, std::size_t held) {
    const auto now = Clock::now();
    if (outage_.failures++ == 0) {
        if (outage_.since_ms == 0) outage_.since_ms = wall_ms();
        outage_.first_error = error;
        outage_.last_logged = now;
        spdlog::error(
            "store: cannot write: {}. Polling and supply control go on; {} readings are held "
            "in memory (at most {}) and the write is retried every {} s",
            error, held, limits_.max_pending, kRetryAfterStoreError.count());
    } else if (now - outage_.last_logged >= kRemindEvery) {
        outage_.last_logged = now;
        spdlog::error(
            "store: still cannot write after {} s ({} attempts): {}; {} readings held in memory, "
            "{} discarded",
            (wall_ms() - outage_.since_ms) / 1000, outage_.failures, error, held,
            outage_.discarded);
    }
    outage_.last_error = error;
}

void Ingest::bound_queue() {
    const std::size_t room =
        limits_.max_pending > inflight_.size() ? limits_.max_pending - inflight_.size() : 0;
    if (queue_.size() <= room) return;
    const std::size_t n = queue_.size() - room;
    if (outage_.discarded == 0) {
        if (outage_.since_ms == 0) outage_.since_ms = wall_ms();
        outage_.discarded_from_ms = queue_.front().ts_ms;
        spdlog::error(
            "store: more than {} readings wait in memory ([store] max_pending_readings): "
            "discarding the oldest. Charging loses nothing (the next stored reading carries "
            "the consumption); the readings' values in between are lost",
            limits_.max_pending);
    }
    outage_.discarded += n;
    outage_.discarded_to_ms = queue_[n - 1].ts_ms;
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<long>(n));
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
        ready_.wait_for(lock, wait, [&] {
            return stopping_ || !queue_.empty() || !jobs_.empty() || !inflight_.empty();
        });
        alive_ns_ = Clock::now().time_since_epoch().count();
        if (!stopping_) run_jobs_and_turn(lock);
        if (queue_.empty() && inflight_.empty()) {
            if (stopping_) return;
            continue;
        }
        if (inflight_.empty()) {
            // A command (a job) ends the gathering: a top-up must not wait for readings.
            const auto gather_until = Clock::now() + commit_delay_;
            ready_.wait_until(lock, gather_until, [&] {
                return stopping_ || queue_.size() >= max_batch_ || !jobs_.empty();
            });
            const std::size_t n = std::min(queue_.size(), max_batch_);
            inflight_.assign(std::make_move_iterator(queue_.begin()),
                             std::make_move_iterator(queue_.begin() + static_cast<long>(n)));
            queue_.erase(queue_.begin(), queue_.begin() + static_cast<long>(n));
        }
        lock.unlock();
        auto written = write_batch(inflight_);
        lock.lock();
        if (written) {
            committed_ += inflight_.size();
            inflight_.clear();
            lock.unlock();
            on_committed_();
            lock.lock();
            continue;
        }
        note_failure(written.error().message, inflight_.size() + queue_.size());
        ++write_failures_;
        if (stopping_) {
            spdlog::error("store: {} readings not written at shutdown",
                          inflight_.size() + queue_.size());
            return;
        }
        // Keep the batch and try again: a full disk or a read-only remount may pass.
        ready_.wait_for(lock, kRetryAfterStoreError, [&] { return stopping_; });
        bound_queue();
    }
}

}  // namespace ecmgw::core
