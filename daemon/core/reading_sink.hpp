// Where bus pollers hand their readings, and the state changes of their bus and
// meters: the core's ingest queue (Ingest) in the daemon.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

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

class ReadingSink {
  public:
    virtual ~ReadingSink() = default;
    virtual void accept(std::vector<store::Reading> readings) = 0;
    virtual void accept_event(BusEvent event) = 0;
};

}  // namespace ecmgw::core
