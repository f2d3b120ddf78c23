#include "sim/hand_switch.hpp"

namespace ecmgw::sim {

namespace {

std::string_view trim(std::string_view s) {
    const auto first = s.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) return {};
    const auto last = s.find_last_not_of(" \t\r");
    return s.substr(first, last - first + 1);
}

}  // namespace

Expected<std::optional<HandSwitch>, std::string> parse_hand_switch(std::string_view line) {
    line = trim(line);
    if (line.empty() || line.front() == '#') return std::optional<HandSwitch>{};
    const auto space = line.find_first_of(" \t");
    if (space == std::string_view::npos)
        return unexpected("\"" + std::string(line) + "\": expected METER on|off");
    const std::string_view meter = line.substr(0, space);
    const std::string_view state = trim(line.substr(space));
    if (state != "on" && state != "off")
        return unexpected("\"" + std::string(line) + "\": expected on or off after the meter");
    return std::optional<HandSwitch>{HandSwitch{std::string(meter), state == "on"}};
}

HandLines take_hand_lines(std::string_view text, std::size_t offset) {
    HandLines out;
    out.next_offset = offset;
    while (out.next_offset < text.size()) {
        const auto end = text.find('\n', out.next_offset);
        if (end == std::string_view::npos) break;
        out.lines.emplace_back(text.substr(out.next_offset, end - out.next_offset));
        out.next_offset = end + 1;
    }
    return out;
}

}  // namespace ecmgw::sim
