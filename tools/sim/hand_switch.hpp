// Switching by hand (--hand-file): lines appended to a file the simulator watches,
// each "METER on" or "METER off", close or open a meter's relay or valve with no
// command on the bus, as a tenant at the meter or the meter's own logic would. The
// tests use it to change a meter behind the gateway's back. Pure: the server reads
// the file.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ecmgw/common/expected.hpp"

namespace ecmgw::sim {

struct HandSwitch {
    std::string meter;  // as in --fault: a meter id, an address, a Modbus unit id, or *
    bool on = false;    // relay closed / valve open
};

// One line of the file; blank lines and lines starting with # are nothing.
Expected<std::optional<HandSwitch>, std::string> parse_hand_switch(std::string_view line);

// What the file holds beyond `offset`, as whole lines: the lines, and the offset of
// the first byte not consumed (a line still being written waits for its newline).
struct HandLines {
    std::vector<std::string> lines;
    std::size_t next_offset = 0;
};
HandLines take_hand_lines(std::string_view text, std::size_t offset);

}  // namespace ecmgw::sim
