// The one master of one bus: opens the port (reopening it with backoff when it
// fails), reads every meter when it is due, and hands the readings to the core.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "bus/dlt645_client.hpp"
#include "bus/poll_plan.hpp"
#include "core/reading_sink.hpp"
#include "ecmgw/config/config.hpp"

namespace ecmgw::bus {

struct BusStats {
    LinkCounters link;
    std::uint64_t cycles = 0;         // meter reads attempted
    std::uint64_t failed_cycles = 0;  // meter reads that got no value at all
    std::uint64_t readings = 0;
    bool port_open = false;
};

class BusPoller {
  public:
    BusPoller(config::BusConfig bus, std::vector<MeterPlan> meters, core::ReadingSink& sink);
    ~BusPoller();
    void start();
    // Finishes the transaction under way, then stops.
    void stop();
    BusStats stats() const;
    // Steady-clock time of the loop's last turn, for the watchdog.
    std::chrono::steady_clock::time_point last_alive() const;

  private:
    void run();
    bool ensure_open();
    void poll_meter(Dlt645Client& client, const MeterPlan& meter);
    bool wait_until(std::chrono::steady_clock::time_point t);

    config::BusConfig bus_;
    std::vector<MeterPlan> meters_;
    core::ReadingSink& sink_;
    std::unique_ptr<transport::ByteLink> link_;
    std::chrono::milliseconds reopen_backoff_{1000};

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    BusStats stats_;
    std::atomic<std::int64_t> alive_ns_{0};
    std::thread thread_;
};

}  // namespace ecmgw::bus
