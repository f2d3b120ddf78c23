// The running bus pollers, one per [[bus]], and the way a new configuration reaches
// them: a bus whose settings or meters changed is stopped and started again, an
// unchanged bus keeps polling (its schedule and statistics intact), a bus that is gone
// stops and a new one starts. Other threads reach a meter's poller through here, so
// a reload never leaves them holding a stopped one.
#pragma once

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "bus/bus_poller.hpp"
#include "core/reading_sink.hpp"
#include "ecmgw/common/expected.hpp"
#include "ecmgw/config/config.hpp"

namespace ecmgw::app {

// What polling one bus takes: the bus, its meters' polling settings and the
// profiles they use. Two equal plans poll identically.
struct BusPlan {
    config::BusConfig bus;
    std::vector<config::MeterConfig> meters;
    std::vector<config::Profile> profiles;
    friend bool operator==(const BusPlan&, const BusPlan&) = default;
};

std::vector<BusPlan> plan_buses(const config::Config& cfg);

struct PollerChanges {
    std::vector<std::string> kept, restarted, started, stopped;  // bus names
    std::string describe() const;
};

class PollerSet {
  public:
    explicit PollerSet(core::ReadingSink& sink);
    ~PollerSet();

    // Makes the pollers match `cfg`; new and restarted pollers start when `start` is
    // true (at start-up they start later, with the rest of the daemon). On failure
    // (a driver that cannot be made) nothing changed.
    Expected<PollerChanges> apply(const config::Config& cfg, bool start);
    void start_all();
    void stop_all();

    std::optional<std::future<bus::CommandResult>> switch_supply(const std::string& meter, bool on);
    std::optional<std::future<bus::CommandResult>> read_now(const std::string& meter);
    // Asks every bus with DL/T 645 meters to broadcast the time; how many will.
    int sync_time_now();
    // BusPoller::with_link on the bus named `bus` (the control socket's scan).
    std::optional<std::future<bus::CommandResult>> with_link(const std::string& bus,
                                                             bus::BusPoller::LinkJob job);
    std::vector<bus::BusSnapshot> snapshots() const;
    // Whether every poller's loop turned since `oldest` (the watchdog's question).
    bool alive_since(std::chrono::steady_clock::time_point oldest) const;
    std::size_t size() const;

  private:
    struct Entry {
        BusPlan plan;
        std::unique_ptr<bus::BusPoller> poller;
    };
    // Runs `f` with the poller that has `meter`, under the shared lock.
    template <class F>
    auto with_meter(const std::string& meter, F f) const
        -> std::optional<decltype(f(std::declval<bus::BusPoller&>()))>;

    core::ReadingSink& sink_;
    mutable std::shared_mutex mutex_;
    std::vector<Entry> entries_;
};

}  // namespace ecmgw::app
