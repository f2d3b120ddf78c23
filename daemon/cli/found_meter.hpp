// What `ecmgw scan` found, written the way a technician uses it: [[meter]] blocks
// to paste into the gateway's config file, or one JSON object for tools.
#pragma once

#include <string>
#include <vector>

#include "cli/direct_link.hpp"

namespace ecmgw::cli {

struct FoundMeter {
    std::string address;  // DL/T 645, CJ/T 188
    int unit = 0;         // modbus
    std::string note;     // what the meter answered when it is worth saying
};

struct ScanReport {
    const MeterSetup& setup;  // protocol, profile, line settings, meter type
    std::string link;         // "/dev/ttyUSB0 2400 8E1"
    std::string bus_name;     // the [[bus]] the blocks refer to
    std::vector<FoundMeter> found;
};

// "M-3", "E-5678" (the address's last four digits), "W-1234"; unique in `found`.
std::vector<std::string> suggested_ids(const ScanReport& report);
std::string to_toml(const ScanReport& report);
std::string to_json(const ScanReport& report);
// "modbus unit 3", "meter 202012345678": for progress lines.
std::string found_line(const MeterSetup& setup, const FoundMeter& meter);

}  // namespace ecmgw::cli
