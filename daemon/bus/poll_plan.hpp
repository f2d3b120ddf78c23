// What a bus poller reads: each meter's address and data items, from config.
#pragma once

#include <string>
#include <vector>

#include "ecmgw/config/config.hpp"
#include "ecmgw/protocols/dlt645.hpp"

namespace ecmgw::bus {

struct MeterPlan {
    std::string id;
    dlt645::Address address;
    std::vector<const dlt645::DataItem*> items;
    std::chrono::seconds interval{60};
};

// The quantities read when a meter's config names none.
std::vector<std::string> default_quantities(config::MeterKind kind);

// The plans of the meters on `bus`; config validation has already checked
// addresses and quantity names, so failures here are programming errors.
Expected<std::vector<MeterPlan>> plan_bus(const config::Config& cfg, const std::string& bus);

}  // namespace ecmgw::bus
