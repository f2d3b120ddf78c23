// Which state changes of a bus and its meters the cloud hears of, as events
// (docs/mqtt.md#events): a meter the schedule declares dead (meter_offline) and
// its first answer after that (meter_online); the port lost (bus_link_lost) and
// open again (bus_link_restored). One event per change of state, never one per
// silent turn, probe or reopen attempt. A meter silent from the start and a port
// that cannot be opened at the start are changes too (from "not yet known").
// Pure: the poller passes the wall time and the schedule's verdicts.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/reading_sink.hpp"

namespace ecmgw::bus {

class BusHealth {
  public:
    struct Meter {
        std::string id;
        std::string describe;  // "dlt645-2007 000000000002"
    };

    // `link`: what the port is ("/dev/ttyUSB0 2400 8E1"); `start_ms`: when the bus
    // started, the start of the silence of a meter that never answered.
    BusHealth(std::string bus, std::string link, std::vector<Meter> meters, std::int64_t start_ms);

    // `meter` answered (a turn, a probe or a read-now): meter_online when it had
    // been reported offline.
    std::optional<core::BusEvent> answered(std::size_t meter, std::int64_t now_ms);
    // `meter` did not answer (`error` says how). `dead`: whether the schedule now
    // counts it dead, after `silent_turns` turns in a row, next probing it after
    // `probe_in`. meter_offline when it turns dead.
    std::optional<core::BusEvent> silent(std::size_t meter, const std::string& error, bool dead,
                                         int silent_turns, std::chrono::milliseconds probe_in,
                                         std::int64_t now_ms);

    // The port failed in use (`why`) and was closed. No event yet: a port that
    // opens again at the first attempt was not lost.
    void link_failed(const std::string& why, std::int64_t now_ms);
    // The port could not be opened: bus_link_lost at the first such failure since
    // it was last open (or since the start).
    std::optional<core::BusEvent> open_failed(const std::string& error, std::int64_t now_ms);
    // The port is open: bus_link_restored when it had been reported lost.
    std::optional<core::BusEvent> opened(std::int64_t now_ms);

    bool offline(std::size_t meter) const { return meters_[meter].offline; }
    bool link_lost() const { return link_lost_; }

  private:
    struct MeterState {
        Meter meter;
        std::int64_t last_answer_ms = 0;  // 0: none since the start
        bool offline = false;             // reported offline
    };
    core::BusEvent event(const char* type, std::int64_t now_ms, const std::string& meter) const;
    std::int64_t silent_since(const MeterState& m) const;

    std::string bus_;
    std::string link_;
    std::int64_t start_ms_;
    std::vector<MeterState> meters_;
    // The port: down since (0 while open), why it failed in use, failed opens since.
    std::int64_t down_since_ms_ = 0;
    std::string cause_;
    std::uint64_t failed_opens_ = 0;
    bool link_lost_ = false;  // reported lost
};

}  // namespace ecmgw::bus
