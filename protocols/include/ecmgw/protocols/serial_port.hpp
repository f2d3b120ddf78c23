// ByteLink over a local serial port: RS-485 adapters through libserialport,
// and the socat pty pairs the tests use as a stand-in.
//
// libserialport 0.1.1 (Debian bookworm) identifies a port by its sysfs node
// (/sys/class/tty/NAME), which pseudo-terminals do not have, so it cannot open
// them. Pseudo-terminals are therefore served by a small termios back end;
// every real serial device goes through libserialport.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "ecmgw/protocols/transport.hpp"

namespace ecmgw::transport {

struct SerialSettings {
    std::string device;
    int baud = 2400;
    char parity = 'E';  // 'N', 'E', 'O'
    int data_bits = 8;
    int stop_bits = 1;
    LineSettings line() const { return {baud, parity, data_bits, stop_bits}; }
};

// Opens `settings.device`, choosing the back end as described above.
Expected<std::unique_ptr<ByteLink>> open_serial_port(const SerialSettings& settings);

// The back ends, for tests that want a particular one.
Expected<std::unique_ptr<ByteLink>> open_libserialport(const SerialSettings& settings);
Expected<std::unique_ptr<ByteLink>> open_termios(const SerialSettings& settings);

// True when `device` (after following links) is a Unix98 pseudo-terminal.
bool is_pseudo_terminal(const std::string& device);

// Time one character takes on the wire (start, data, parity and stop bits),
// for inter-frame gaps and wire-time figures.
std::chrono::microseconds character_time(const LineSettings& line);
inline std::chrono::microseconds character_time(const SerialSettings& s) {
    return character_time(s.line());
}

std::string describe(const SerialSettings& settings);  // "/dev/ttyUSB0 2400 8E1"

}  // namespace ecmgw::transport
