// The one master of one bus. It owns the port (serial, or TCP to a serial
// server; reopened with backoff when it fails, while other buses carry on) and
// decides, transaction by transaction, what goes on the wire:
//   1. commands (read-now, relay/valve) pre-empt reads;
//   2. the broadcast time sync, when due;
//   3. the meter whose turn is due (PollSchedule: dead meters are only probed);
//      a switchable meter's turn includes its relay or valve state every supply
//      check interval, handed to the sink (the core notices hand switching).
// The bus's quiet gap separates every two transactions (Exchange keeps it); a
// meter's own line settings are applied before its turn.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "bus/bus_health.hpp"
#include "bus/meter_driver.hpp"
#include "bus/meter_stats.hpp"
#include "bus/poll_schedule.hpp"
#include "core/reading_sink.hpp"
#include "ecmgw/config/config.hpp"

namespace ecmgw::bus {

struct MeterSnapshot {
    std::string id;
    std::string describe;
    MeterStats stats;
    LatencySummary latency;
};

struct BusSnapshot {
    std::string name;
    std::string link;  // what the port is: "/dev/ttyUSB0 2400 8E1", "tcp://10.0.0.5:4001"
    bool port_open = false;
    std::uint64_t reopens = 0;
    std::uint64_t time_syncs = 0;
    LinkCounters counters;
    std::vector<MeterSnapshot> meters;
};

// The result of a command run on the bus.
struct CommandResult {
    bool ok = false;
    std::string error;
    std::vector<Sample> samples;       // read-now
    std::optional<SupplyState> state;  // relay/valve: the state read back
};

struct PolledMeter {
    std::unique_ptr<MeterDriver> driver;
    std::chrono::milliseconds interval{60'000};
};

class BusPoller {
  public:
    BusPoller(config::BusConfig bus, std::vector<PolledMeter> meters, core::ReadingSink& sink,
              BackoffPolicy backoff = {});
    ~BusPoller();
    void start();
    // Finishes the transaction under way, then stops. Pending commands fail.
    void stop();

    bool has_meter(const std::string& id) const;
    // Commands go before the next read; the future is ready when they have run.
    std::future<CommandResult> read_now(const std::string& meter);
    std::future<CommandResult> switch_supply(const std::string& meter, bool on);
    // Broadcasts the time before the next read (the cloud's time_sync); false when
    // no meter on this bus takes a time broadcast.
    bool sync_time_soon();
    // What a job on the lent port may ask of the poller while it runs on the bus
    // thread. The watchdog would see the bus stand still during a long job (a scan
    // of minutes): each progressed() says the job still turns. stopping(): the
    // poller is being stopped (SIGTERM, a reload restarting the bus); end early.
    class Lease {
      public:
        void progressed();
        bool stopping() const;

      private:
        friend class BusPoller;
        explicit Lease(BusPoller& poller) : poller_(poller) {}
        BusPoller& poller_;
    };
    // Lends the open port to `job` on the bus thread, with the bus's own line
    // settings: nothing else goes on the wire until it returns, so scheduled
    // polling pauses meanwhile (a scan). Meters that fell due are read after it.
    using LinkJob = std::function<CommandResult(transport::ByteLink&, Lease&)>;
    std::future<CommandResult> with_link(LinkJob job);

    BusSnapshot snapshot() const;
    // Steady-clock time of the loop's last turn, for the watchdog.
    std::chrono::steady_clock::time_point last_alive() const;
    const std::string& name() const { return bus_.name; }
    // How often a switchable meter's turn reads its relay or valve state too
    // ([prepaid] supply_check_interval_s); 0 = never. Any thread, any time.
    void set_supply_check_interval(std::chrono::seconds interval) {
        supply_check_s_ = interval.count();
    }

  private:
    struct Command {
        enum class Kind { ReadNow, Switch, LendLink } kind;
        std::size_t meter;
        bool on = false;
        std::promise<CommandResult> done;
        LinkJob job;  // LendLink
    };

    void run();
    bool ensure_open();
    void close_link(const std::string& why);
    bool wait_until(std::chrono::steady_clock::time_point t);
    std::optional<Command> next_command();
    std::future<CommandResult> submit(Command::Kind kind, const std::string& meter, bool on);
    void run_command(Command& command);
    void lend_link(Command& command);
    void run_turn(const PollSchedule::Turn& turn);
    void sync_time();
    // Prepares the link for `meter` (line, timeout); false when the link failed.
    bool prepare(std::size_t meter);
    Expected<ReadOutcome, ReadError> read_with_retries(std::size_t meter);
    // The supply check, when due in this turn of `meter`: the state the read
    // brought, else read now (one exchange). Nothing when not due.
    std::optional<Expected<SupplyState, ReadError>> check_supply(std::size_t meter,
                                                                 const ReadOutcome& read);
    void account(std::size_t meter, const LinkCounters& before,
                 const Expected<ReadOutcome, ReadError>& outcome);
    void deliver(std::size_t meter, const std::vector<Sample>& samples);
    // Hands a state change to the sink (the ingest thread writes it).
    void report(std::optional<core::BusEvent> event);

    config::BusConfig bus_;
    std::vector<std::unique_ptr<MeterDriver>> drivers_;
    core::ReadingSink& sink_;
    PollSchedule schedule_;
    BusHealth health_;  // bus thread only

    // Used by the bus thread only.
    std::unique_ptr<transport::ByteLink> link_;
    std::unique_ptr<Exchange> exchange_;
    std::unique_ptr<BusContext> context_;
    LinkCounters counters_;
    std::vector<std::chrono::microseconds> latencies_;
    std::chrono::milliseconds reopen_backoff_{1000};
    std::chrono::steady_clock::time_point next_time_sync_ =
        std::chrono::steady_clock::time_point::max();
    bool warned_clock_ = false;
    // Per meter: when its next supply check is due (epoch: not scheduled yet).
    std::vector<std::chrono::steady_clock::time_point> next_supply_check_;

    mutable std::mutex mutex_;  // guards what follows
    std::condition_variable wake_;
    bool stopping_ = false;
    std::deque<Command> commands_;
    BusSnapshot snapshot_;
    std::vector<MeterStats> stats_;

    std::atomic<std::int64_t> alive_ns_{0};
    std::atomic<bool> time_sync_asked_{false};
    std::atomic<std::int64_t> supply_check_s_{0};
    std::thread thread_;
};

}  // namespace ecmgw::bus
