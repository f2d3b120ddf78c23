// The flags every direct technician command shares (read, relay, valve, scan):
// how to reach the bus and which meter to talk to. Zero or empty means "the
// protocol's default", resolved in direct_link.cpp.
#pragma once

#include <string>
#include <vector>

namespace ecmgw::cli {

struct LinkOptions {
    // Where the bus is: a serial port, or a serial-to-Ethernet server.
    std::string device;
    std::string host;
    int port = 0;
    std::string framing = "rtu";  // "tcp" = Modbus TCP (MBAP), modbus only

    std::string protocol = "dlt645-2007";
    std::string address;  // empty: the protocol's wildcard, resolved by read-address
    int unit = 1;         // modbus
    std::string profile;  // modbus
    std::string profiles_dir;
    std::string meter_type = "cold_water";  // cjt188, spelled as in the config file

    int baud = 0;        // 0: the protocol's (or the profile's) default
    std::string parity;  // "N", "E", "O"; empty: default
    int data_bits = 0;
    int stop_bits = 0;
    int timeout_ms = 0;  // 0: the command's default

    std::vector<std::string> quantities;
    bool json = false;

    // The running daemon's control socket: a port it owns is refused here.
    std::string socket;
};

}  // namespace ecmgw::cli
