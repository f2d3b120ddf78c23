// A byte link to a bus: a serial port, or a TCP connection to a serial-to-
// Ethernet server. Thin: it moves bytes and knows nothing of frames.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>

#include "ecmgw/common/expected.hpp"

namespace ecmgw::transport {

// How characters are framed on a serial line.
struct LineSettings {
    int baud = 2400;
    char parity = 'E';  // 'N', 'E', 'O'
    int data_bits = 8;
    int stop_bits = 1;
    friend bool operator==(const LineSettings&, const LineSettings&) = default;
};

class ByteLink {
  public:
    virtual ~ByteLink() = default;
    // Writes all of `bytes` and waits until they have left the port.
    virtual Result write(std::span<const std::uint8_t> bytes) = 0;
    // Reads what arrives within `timeout` into `buffer`; 0 bytes on timeout.
    virtual Expected<std::size_t> read(std::span<std::uint8_t> buffer,
                                       std::chrono::milliseconds timeout) = 0;
    // Drops bytes received but not read: before a request, to resync after noise.
    virtual Result flush_input() = 0;
    virtual std::string describe() const = 0;  // "/dev/ttyUSB0 2400 8E1"
    // Changes the line between transactions, for a meter that talks at other
    // settings than the bus. A TCP link's line belongs to the serial server:
    // it accepts and ignores them.
    virtual Result set_line(const LineSettings& line) = 0;
    // The OS descriptor, for libraries that run their own framing on the
    // same link (libmodbus). The link keeps owning it.
    virtual int native_handle() const = 0;
};

}  // namespace ecmgw::transport
