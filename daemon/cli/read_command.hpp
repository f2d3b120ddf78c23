// `ecmgw read`: a technician reads one meter once, without a config file.
#pragma once

#include <string>
#include <vector>

namespace ecmgw::cli {

struct ReadOptions {
    std::string device;
    std::string protocol = "dlt645-2007";
    std::string address = "AAAAAAAAAAAA";  // wildcard: the one meter on the bus
    int baud = 2400;
    std::string parity = "E";
    int data_bits = 8;
    int stop_bits = 1;
    int timeout_ms = 600;
    std::vector<std::string> quantities;  // empty: a technician's standard set
    bool json = false;
};

// Exit codes: 0 read, 1 usage or port error, 2 the meter did not answer.
int run_read(const ReadOptions& options);

}  // namespace ecmgw::cli
