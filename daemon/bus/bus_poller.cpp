#include "bus/bus_poller.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <queue>

#include "ecmgw/protocols/serial_port.hpp"

namespace ecmgw::bus {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kMaxReopenBackoff{30000};

std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

transport::SerialSettings serial_settings(const config::BusConfig& bus) {
    return {bus.device, bus.baud, config::to_char(bus.parity), bus.data_bits, bus.stop_bits};
}

struct Due {
    Clock::time_point at;
    std::size_t meter;
    bool operator>(const Due& o) const { return at > o.at; }
};

}  // namespace

BusPoller::BusPoller(config::BusConfig bus, std::vector<MeterPlan> meters, core::ReadingSink& sink)
    : bus_(std::move(bus)), meters_(std::move(meters)), sink_(sink) {}

BusPoller::~BusPoller() { stop(); }

void BusPoller::start() {
    alive_ns_ = Clock::now().time_since_epoch().count();
    thread_ = std::thread([this] { run(); });
}

void BusPoller::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

BusStats BusPoller::stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
}

Clock::time_point BusPoller::last_alive() const {
    return Clock::time_point(Clock::duration(alive_ns_.load()));
}

// Returns false when the poller is stopping.
bool BusPoller::wait_until(Clock::time_point t) {
    std::unique_lock lock(mutex_);
    // Wake at least every second so the watchdog sees the loop alive.
    while (!stopping_ && Clock::now() < t) {
        wake_.wait_until(lock, std::min(t, Clock::now() + std::chrono::seconds(1)));
        alive_ns_ = Clock::now().time_since_epoch().count();
    }
    return !stopping_;
}

bool BusPoller::ensure_open() {
    while (!link_) {
        auto link = transport::open_serial_port(serial_settings(bus_));
        if (link) {
            link_ = std::move(*link);
            spdlog::info("bus {}: opened {}", bus_.name, link_->describe());
            reopen_backoff_ = std::chrono::milliseconds(1000);
            std::lock_guard lock(mutex_);
            stats_.port_open = true;
            return true;
        }
        // Log the first failure of a run of them only; the state is in the stats.
        if (reopen_backoff_ == std::chrono::milliseconds(1000)) {
            spdlog::error("bus {}: {}; retrying with backoff", bus_.name, link.error().message);
        }
        if (!wait_until(Clock::now() + reopen_backoff_)) return false;
        reopen_backoff_ = std::min(reopen_backoff_ * 2, kMaxReopenBackoff);
    }
    return true;
}

void BusPoller::poll_meter(Dlt645Client& client, const MeterPlan& meter) {
    std::vector<store::Reading> readings;
    bool link_failed = false;
    for (const auto* item : meter.items) {
        Expected<dlt645::Value, ReadError> value = unexpected(ReadError{});
        for (int attempt = 0; attempt <= bus_.retries; ++attempt) {
            value = client.read(meter.address, *item);
            if (value || value.error().kind == ReadFailure::Refused ||
                value.error().kind == ReadFailure::LinkError) {
                break;
            }
            spdlog::debug("bus {}: meter {} {}: {} (attempt {})", bus_.name, meter.id,
                          item->quantity, value.error().message, attempt + 1);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(bus_.gap_ms));  // bus quiet time
        if (value) {
            if (value->format == dlt645::ValueFormat::Decimal ||
                value->format == dlt645::ValueFormat::StatusWord) {
                readings.push_back(
                    {meter.id, wall_ms(), std::string(item->quantity), value->number});
            }
            continue;
        }
        if (value.error().kind == ReadFailure::LinkError) {
            spdlog::error("bus {}: {}; reopening", bus_.name, value.error().message);
            link_failed = true;
            break;
        }
        if (value.error().kind == ReadFailure::Refused) {
            spdlog::debug("bus {}: meter {} {}: {}", bus_.name, meter.id, item->quantity,
                          value.error().message);
            continue;
        }
        // A meter that does not answer one item will not answer the next: don't
        // spend the bus's time on it this cycle.
        spdlog::debug("bus {}: meter {}: {}", bus_.name, meter.id, value.error().message);
        break;
    }
    {
        std::lock_guard lock(mutex_);
        stats_.link = client.counters();
        ++stats_.cycles;
        if (readings.empty()) ++stats_.failed_cycles;
        stats_.readings += readings.size();
    }
    if (link_failed) {
        link_.reset();
        std::lock_guard lock(mutex_);
        stats_.port_open = false;
    }
    if (!readings.empty()) sink_.accept(std::move(readings));
}

void BusPoller::run() {
    std::priority_queue<Due, std::vector<Due>, std::greater<>> schedule;
    const auto now = Clock::now();
    for (std::size_t i = 0; i < meters_.size(); ++i) schedule.push({now, i});
    if (meters_.empty()) {
        wait_until(Clock::time_point::max());
        return;
    }
    LinkTiming timing{std::chrono::milliseconds(bus_.timeout_ms),
                      std::chrono::milliseconds(bus_.inter_byte_timeout_ms)};
    LinkCounters carried;  // counters survive a reopen of the port
    while (true) {
        const Due due = schedule.top();
        if (!wait_until(due.at) || !ensure_open()) return;
        schedule.pop();
        Dlt645Client client(*link_, timing);
        client.restore_counters(carried);
        poll_meter(client, meters_[due.meter]);
        carried = client.counters();
        // Keep the meter's cadence; after a long stall skip missed turns, don't burst.
        auto next = due.at + meters_[due.meter].interval;
        while (next <= Clock::now()) next += meters_[due.meter].interval;
        schedule.push({next, due.meter});
    }
}

}  // namespace ecmgw::bus
