// ByteLink over a local serial port (libserialport): RS-485 adapters, and the
// socat pty pairs the tests use as a stand-in.
#pragma once

#include <memory>
#include <string>

#include "ecmgw/protocols/transport.hpp"

struct sp_port;

namespace ecmgw::transport {

struct SerialSettings {
    std::string device;
    int baud = 2400;
    char parity = 'E';  // 'N', 'E', 'O'
    int data_bits = 8;
    int stop_bits = 1;
};

class SerialPort final : public ByteLink {
public:
    static Expected<std::unique_ptr<SerialPort>> open(const SerialSettings& settings);
    ~SerialPort() override;

    Result write(std::span<const std::uint8_t> bytes) override;
    Expected<std::size_t> read(std::span<std::uint8_t> buffer,
                               std::chrono::milliseconds timeout) override;
    Result flush_input() override;
    std::string describe() const override;
    // Time one character takes on the wire at these settings (start, data,
    // parity, stop bits), for inter-frame gaps and wire-time figures.
    std::chrono::microseconds character_time() const;

private:
    SerialPort(sp_port* port, SerialSettings settings);
    sp_port* port_;
    SerialSettings settings_;
};

std::chrono::microseconds character_time(const SerialSettings& settings);

}  // namespace ecmgw::transport
