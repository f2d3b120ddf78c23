// Finding the next request on a bus that carries several protocols: DL/T 645 (both
// versions share the frame), CJ/T 188 and Modbus RTU. Each codec's scanner looks for its
// own frames by structure and checksum; the one that starts first wins. Pure.
#pragma once

#include <cstddef>

#include "ecmgw/protocols/cjt188.hpp"
#include "ecmgw/protocols/dlt645.hpp"

namespace ecmgw::sim {

enum class FrameKind { Dlt645, Cjt188, ModbusRtu };

// Which scanners run: only those of protocols on the bus, so a DL/T 645 bus never takes
// bytes for a Modbus request by the chance of a matching CRC.
struct BusProtocols {
    bool dlt645 = false;
    bool cjt188 = false;
    bool modbus = false;
};

struct BusScan {
    dlt645::ScanStatus status = dlt645::ScanStatus::NoFrame;
    // Complete: drop `consumed` bytes (through the frame's end) after serving it.
    // Incomplete and NoFrame: drop `consumed` bytes (noise before a possible frame).
    std::size_t consumed = 0;
    FrameKind kind = FrameKind::Dlt645;
    std::size_t start = 0;   // where the frame (or the bytes before it: wake-up) begins
    std::size_t length = 0;  // the frame's length from its first byte
    dlt645::Frame dlt645;    // when kind is Dlt645
    cjt188::Frame cjt188;    // when kind is Cjt188
};

BusScan scan_bus(dlt645::ByteView bytes, const BusProtocols& protocols);

// DL/T 645-1997 and -2007 share the frame; the function code tells them apart.
enum class Dlt645Version { V1997, V2007, Both };
Dlt645Version version_of(std::uint8_t function);

}  // namespace ecmgw::sim
