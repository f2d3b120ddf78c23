#include "ecmgw/protocols/serial_port.hpp"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cstdlib>

namespace ecmgw::transport {

bool is_pseudo_terminal(const std::string& device) {
    struct stat st {};
    if (::stat(device.c_str(), &st) != 0 || !S_ISCHR(st.st_mode)) return false;
    // Unix98 pty slaves use character majors 136-143 (Documentation/admin-guide/devices.txt).
    const unsigned int major_number = major(st.st_rdev);
    return major_number >= 136 && major_number <= 143;
}

Expected<std::unique_ptr<ByteLink>> open_serial_port(const SerialSettings& settings) {
    if (is_pseudo_terminal(settings.device)) return open_termios(settings);
    return open_libserialport(settings);
}

std::chrono::microseconds character_time(const LineSettings& s) {
    const int bits = 1 + s.data_bits + (s.parity == 'N' ? 0 : 1) + s.stop_bits;
    return std::chrono::microseconds(1'000'000LL * bits / (s.baud > 0 ? s.baud : 1));
}

std::string describe(const SerialSettings& s) {
    return s.device + " " + std::to_string(s.baud) + " " + std::to_string(s.data_bits) + s.parity +
           std::to_string(s.stop_bits);
}

}  // namespace ecmgw::transport
