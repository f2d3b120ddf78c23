// Where bus pollers hand what they read: readings, and the relay or valve state
// a periodic supply check read between switches. The core's ingest queue in the
// daemon; a collector in the tests.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "bus/meter_driver.hpp"
#include "ecmgw/store/store.hpp"

namespace ecmgw::core {

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
    virtual void observe_supply(SupplyObservation observation) = 0;
};

}  // namespace ecmgw::core
