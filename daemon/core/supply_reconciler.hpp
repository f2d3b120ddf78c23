// Makes meters follow their desired supply state (design.md, data flow 3). The
// store holds what each meter should be and what it was last seen to be; this
// sends relay/valve commands through the meter's bus poller until the two agree,
// within the relay protection limits and a bounded number of attempts, and asks
// for a person (an event) when it cannot. After a restart every desired state is
// asserted once, whatever the store last saw. Between switches the buses read
// each meter's state every [prepaid] supply_check_interval_s (observed()): a
// meter switched by hand or by its own logic is recorded, reported, and, when it
// no longer is what it should be, switched back like any other disagreement.
//
// Runs on the ingest thread (CoreHooks::turn); switches run on the bus threads,
// and their results are collected at the next turn.
#pragma once

#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "bus/bus_poller.hpp"
#include "core/prepaid_engine.hpp"

namespace ecmgw::core {

class SupplyReconciler {
  public:
    // Starts a switch of `meter` on its bus; nullopt when no bus has the meter.
    using SwitchFn =
        std::function<std::optional<std::future<bus::CommandResult>>(const std::string&, bool)>;

    SupplyReconciler(PrepaidEngine& engine, store::Store& store, SwitchFn switch_meter);

    // Works for `engine` from now on (a reload replaced the engine).
    void rebind(PrepaidEngine& engine) { engine_ = &engine; }
    // Every meter with a desired state is asserted once more (at start-up).
    void assert_all();
    // These meters' desired state changed: act on them at the next turn.
    void wake(const std::vector<std::string>& meters);
    // A bus read `observation.state` from a meter between switches. Ignored while a
    // switch of the meter is under way, or when it was read before the last
    // switch's result was recorded (it may predate the switch); else recorded by
    // the engine, and a meter to switch back is acted on at once.
    void observed(const SupplyObservation& observation, std::int64_t now_ms);
    // Collects finished switches and starts the due ones.
    void turn(std::int64_t now_ms);
    bool busy() const { return !in_flight_.empty() || !woken_.empty(); }

  private:
    struct InFlight {
        std::future<bus::CommandResult> result;
        bool on = false;
    };
    void collect(std::int64_t now_ms);
    void start_due(std::int64_t now_ms);
    // Runs `write` in its own transaction; logs a failure, false then.
    bool write(const char* what, const std::function<Result(store::Transaction&)>& write);

    PrepaidEngine* engine_;
    store::Store& store_;
    SwitchFn switch_meter_;
    std::map<std::string, InFlight> in_flight_;
    // When each meter's last switch result was recorded (steady clock).
    std::map<std::string, std::chrono::steady_clock::time_point> settled_at_;
    std::set<std::string> to_assert_;
    std::set<std::string> woken_;
    std::map<std::string, std::int64_t> not_before_ms_;
    std::map<std::string, int> reported_day_;  // meter → local day its limit was reported
};

}  // namespace ecmgw::core
