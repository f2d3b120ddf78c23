// A byte link to a bus: a serial port, later a TCP connection to a serial
// server. Thin: it moves bytes and knows nothing of frames.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>

#include "ecmgw/common/expected.hpp"

namespace ecmgw::transport {

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
};

}  // namespace ecmgw::transport
