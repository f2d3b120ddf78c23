#include "cli/found_meter.hpp"

#include <fmt/core.h>

#include <algorithm>

#include "cli/output.hpp"

namespace ecmgw::cli {

namespace {

std::string prefix_of(const MeterSetup& s) {
    if (s.meter.protocol == config::Protocol::Modbus) return "M-";
    return s.meter.kind == config::MeterKind::Water ? "W-" : "E-";
}

std::string line_of(const config::BusConfig& bus) {
    return fmt::format("{} {}{}{}", bus.baud, bus.data_bits, config::to_char(bus.parity),
                       bus.stop_bits);
}

std::string header(const ScanReport& r) {
    const auto& bus = r.setup.bus;
    std::string out = fmt::format("# Found by `ecmgw scan` on {}.\n", r.link);
    if (bus.transport == config::Transport::Serial) {
        out += fmt::format(
            "# Their [[bus]] needs baud = {}, parity = \"{}\", data_bits = {}, stop_bits = {}.\n",
            bus.baud, config::to_char(bus.parity), bus.data_bits, bus.stop_bits);
    }
    if (r.bus_name == "CHANGE-ME") out += "# Set bus = to the name of that [[bus]].\n";
    return out;
}

std::string identity(const MeterSetup& s, const FoundMeter& m) {
    if (s.meter.protocol == config::Protocol::Modbus) {
        std::string out = fmt::format("unit = {}\n", m.unit);
        if (s.meter.profile.empty()) {
            return out + "profile = \"CHANGE-ME\"  # the meter model's profile (ls " +
                   default_profiles_dir().string() + ")\n";
        }
        return out + fmt::format("profile = \"{}\"\n", s.meter.profile);
    }
    std::string out = fmt::format("address = \"{}\"\n", m.address);
    if (s.meter.protocol == config::Protocol::Cjt188) {
        out += fmt::format("meter_type = \"{}\"\n", config::to_string(s.meter.meter_type));
    }
    return out;
}

}  // namespace

std::vector<std::string> suggested_ids(const ScanReport& r) {
    const auto prefix = prefix_of(r.setup);
    std::vector<std::string> ids;
    for (const auto& m : r.found) {
        if (r.setup.meter.protocol == config::Protocol::Modbus) {
            ids.push_back(prefix + std::to_string(m.unit));
            continue;
        }
        const auto tail = m.address.substr(m.address.size() - 4);
        const bool shared = std::count_if(r.found.begin(), r.found.end(), [&](const FoundMeter& o) {
                                return o.address.ends_with(tail);
                            }) > 1;
        // Two meters ending alike: the whole address tells them apart.
        ids.push_back(prefix + (shared ? m.address : tail));
    }
    return ids;
}

std::string to_toml(const ScanReport& r) {
    const auto ids = suggested_ids(r);
    std::string out = header(r);
    for (std::size_t i = 0; i < r.found.size(); ++i) {
        const auto& m = r.found[i];
        out += fmt::format("\n[[meter]]\nid = \"{}\"\nbus = \"{}\"\nprotocol = \"{}\"\n", ids[i],
                           r.bus_name, config::to_string(r.setup.meter.protocol));
        out += identity(r.setup, m);
        if (!m.note.empty()) out += "# " + m.note + "\n";
    }
    return out;
}

std::string to_json(const ScanReport& r) {
    const auto ids = suggested_ids(r);
    const auto& s = r.setup;
    std::vector<std::string> found;
    for (std::size_t i = 0; i < r.found.size(); ++i) {
        const auto& m = r.found[i];
        JsonMembers one{{"id", json_string(ids[i])}, {"bus", json_string(r.bus_name)}};
        if (s.meter.protocol == config::Protocol::Modbus) {
            one.emplace_back("unit", std::to_string(m.unit));
            if (!s.meter.profile.empty()) one.emplace_back("profile", json_string(s.meter.profile));
        } else {
            one.emplace_back("address", json_string(m.address));
        }
        if (s.meter.protocol == config::Protocol::Cjt188) {
            one.emplace_back("meter_type", json_string(config::to_string(s.meter.meter_type)));
        }
        if (!m.note.empty()) one.emplace_back("note", json_string(m.note));
        found.push_back(json_object(one));
    }
    return json_object({{"protocol", json_string(config::to_string(s.meter.protocol))},
                        {"link", json_string(r.link)},
                        {"line", json_string(line_of(s.bus))},
                        {"found", json_array(found)}});
}

std::string found_line(const MeterSetup& s, const FoundMeter& m) {
    if (s.meter.protocol == config::Protocol::Modbus) {
        return fmt::format("found modbus unit {}{}{}", m.unit, m.note.empty() ? "" : ": ", m.note);
    }
    return fmt::format("found meter {}{}{}", m.address, m.note.empty() ? "" : ": ", m.note);
}

}  // namespace ecmgw::cli
