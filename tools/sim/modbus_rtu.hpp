// Modbus RTU requests as a server sees them in a byte stream: where one starts and ends
// (the length follows from the function code; the CRC confirms it) and what it asks.
// libmodbus builds the answers; this only finds the requests, because the simulator's
// bus also carries DL/T 645 and CJ/T 188 frames that libmodbus's receiver would choke on.
// Pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "ecmgw/protocols/dlt645.hpp"
#include "ecmgw/protocols/modbus_map.hpp"

namespace ecmgw::sim {

// CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF); sent low byte first.
std::uint16_t crc16(dlt645::ByteView bytes);

struct RtuScan {
    dlt645::ScanStatus status = dlt645::ScanStatus::NoFrame;
    std::size_t skipped = 0;  // bytes before the request
    std::size_t length = 0;   // the request's length with its CRC, when Complete
};

// Finds the first request (unit 0-247, a function a server answers, a good CRC) in
// `bytes`. Complete and Incomplete mean what they mean for dlt645::scan.
RtuScan scan_request(dlt645::ByteView bytes);

// What a request asks.
struct RtuRequest {
    std::uint8_t unit = 0;
    std::uint8_t function = 0;
    modbus::Table table = modbus::Table::HoldingRegister;
    std::uint16_t address = 0;
    std::uint16_t count = 0;            // registers or bits read or written
    std::vector<std::uint16_t> values;  // written values (bits as 0/1); empty for reads
    bool is_write() const {
        return function == 5 || function == 6 || function == 15 || function == 16;
    }
    bool is_read() const { return function >= 1 && function <= 4; }
};

// Decodes a whole request ADU (unit through CRC) found by scan_request. Functions other
// than 01-06, 15 and 16 come back with only unit and function set.
RtuRequest parse_request(dlt645::ByteView adu);

}  // namespace ecmgw::sim
