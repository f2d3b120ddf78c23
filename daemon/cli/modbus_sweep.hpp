// Finding Modbus meters: ask every unit id in a range one short request. Any
// answer, an exception included, means a device has that id; silence means none.
#pragma once

#include <functional>
#include <vector>

#include "cli/direct_link.hpp"
#include "cli/found_meter.hpp"
#include "cli/progress.hpp"

namespace ecmgw::cli {

struct SweepRange {
    int from = 1;
    int to = 247;
};

// The units that answered, in order. Stops early when `stop` says so (Ctrl-C).
// Fails only when the link itself fails.
Expected<std::vector<FoundMeter>, CommandError> sweep_units(DirectLink& link, SweepRange range,
                                                            Progress& progress,
                                                            const std::function<bool()>& stop);

}  // namespace ecmgw::cli
