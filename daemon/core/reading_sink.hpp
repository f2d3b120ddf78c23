// Where bus pollers hand what they read and see: readings, the state changes of
// their bus and meters, and the relay or valve state a periodic supply check read
// between switches. The core's ingest queue (Ingest) in the daemon; a collector in
// the tests.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bus/meter_driver.hpp"
#include "ecmgw/store/store.hpp"

namespace ecmgw::core {

// A meter went silent or came back, the bus's port was lost or reopened
// (docs/mqtt.md#events). Raised on the bus thread, which must not wait for the
// store: the ingest thread writes it with the readings, in the same seq stream.
struct BusEvent {
    std::string type;  // meter_offline, meter_online, bus_link_lost, bus_link_restored
    std::int64_t ts_ms = 0;
    std::string bus;
    std::string meter;  // empty when it is about the bus itself
    nlohmann::json details = nlohmann::json::object();
};

// A switchable meter's relay or valve state, read as part of its turn every
// [prepaid] supply_check_interval_s (not after a switch: that is the switch's result).
struct SupplyObservation {
    std::string meter;
    bus::SupplyState state = bus::SupplyState::Unknown;
    // When the bus read it: a reading older than a switch's result is stale.
    std::chrono::steady_clock::time_point read_at;
};

class ReadingSink {
  public:
    virtual ~ReadingSink() = default;
    virtual void accept(std::vector<store::Reading> readings) = 0;
    virtual void accept_event(BusEvent event) = 0;
    virtual void observe_supply(SupplyObservation observation) = 0;
};

}  // namespace ecmgw::core
