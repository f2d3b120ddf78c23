#include "cli/daemon_meter_commands.hpp"

#include <fmt/core.h>

#include "cli/daemon_link.hpp"
#include "cli/output.hpp"
#include "control/protocol.hpp"

namespace ecmgw::cli {

namespace {

using nlohmann::json;

control::Supply supply_of(SupplySwitch what) {
    return what == SupplySwitch::Relay ? control::Supply::Relay : control::Supply::Valve;
}

}  // namespace

std::string link_flag_given(const LinkOptions& o) {
    if (!o.device.empty()) return "--device";
    if (!o.host.empty()) return "--host";
    if (o.port != 0) return "--port";
    if (!o.address.empty()) return "--address";
    if (!o.profile.empty()) return "--profile";
    if (o.baud != 0) return "--baud";
    if (!o.parity.empty()) return "--parity";
    if (o.data_bits != 0) return "--data-bits";
    if (o.stop_bits != 0) return "--stop-bits";
    if (o.timeout_ms != 0) return "--timeout-ms";
    if (!o.quantities.empty()) return "--quantity";
    return "";
}

int read_via_daemon(const std::string& meter, const LinkOptions& o) {
    auto r = ask_daemon("ecmgw read", o.socket, control::ReadRequest{meter});
    if (!r) return report(r.error());
    const auto& values = (*r)["values"];
    if (o.json) {
        JsonMembers v;
        // The daemon sends the meter's digits as text; as JSON numbers they stay exact.
        for (const auto& [q, text] : values.items()) v.emplace_back(q, text.get<std::string>());
        fmt::print("{}\n", json_object({{"meter", json_string(meter)},
                                        {"bus", json_string(r->value("bus", ""))},
                                        {"ts", json_string(r->value("ts", ""))},
                                        {"values", json_object(v)}}));
        return kExitOk;
    }
    fmt::print("meter {} on bus {}, read at {} (stored)\n", meter, r->value("bus", ""),
               r->value("ts", ""));
    for (const auto& [q, text] : values.items()) {
        fmt::print("  {:<28} {}\n", q, text.get<std::string>());
    }
    return kExitOk;
}

int switch_via_daemon(SupplySwitch what, const std::string& meter, const SwitchOptions& o) {
    const auto supply = supply_of(what);
    const std::string command = fmt::format("ecmgw {}", control::to_string(supply));
    const auto action = control::switch_action(supply, o.action);
    if (!action) {
        return report(
            {kExitUsage,
             fmt::format("{}: '{}' goes directly to a meter (--device …); through the "
                         "daemon: {}",
                         command, o.action,
                         what == SupplySwitch::Relay ? "on, off or auto" : "open, close or auto")});
    }
    if (!o.link.json) {
        fmt::print(
            "{} {}: local override of {} through the gateway daemon; waiting for the "
            "read-back …\n",
            control::to_string(supply), o.action, meter);
        std::fflush(stdout);
    }
    auto r = ask_daemon(command, o.link.socket, control::SwitchRequest{supply, meter, *action});
    if (!r) return report(r.error());
    const bool confirmed = r->value("confirmed", false);
    if (o.link.json) {
        fmt::print("{}\n", r->dump());
    } else {
        const bool forced = r->value("force", "none") != "none";
        fmt::print("desired {} ({}), read back {}{}\n", r->value("desired", ""),
                   forced ? "forced by " + r->value("by", "") : r->value("reason", ""),
                   r->value("observed", ""),
                   r->contains("observed_at") ? " at " + r->value("observed_at", "") : "");
    }
    if (confirmed) return kExitOk;
    return report(
        {kExitRefused, fmt::format("{}: {}", command, r->value("error", "not confirmed"))});
}

std::optional<int> direct_via_daemon(const std::string& command, const LinkOptions& link,
                                     const nlohmann::json& options) {
    const std::string name = "ecmgw " + command;
    const auto port = port_of(link);
    auto owner = daemon_bus_on(name, link.socket, port);
    if (!owner) return report(owner.error());
    if (!*owner) return std::nullopt;
    print_err(fmt::format(
        "{}: {} is bus {} of the running gateway daemon: the command runs through it (its "
        "polling pauses meanwhile)\n",
        name, describe_port(port), **owner));
    auto r = ask_daemon(name, link.socket, control::DirectRequest{**owner, command, options});
    if (!r) return report(r.error());
    print_out(r->value("stdout", ""));
    print_err(r->value("stderr", ""));
    return r->value("exit", kExitUsage);
}

std::optional<int> scan_port_via_daemon(const ScanOptions& o, bool protocol_given) {
    auto owner = daemon_bus_on("ecmgw scan", o.link.socket, port_of(o.link));
    if (!owner) return report(owner.error());
    if (!*owner) return std::nullopt;
    return scan_via_daemon(**owner, o, protocol_given);
}

int scan_via_daemon(const std::string& bus, const ScanOptions& o, bool protocol_given) {
    control::ScanRequest request;
    request.bus = bus;
    // The protocol flag has a default; only a protocol the technician chose is sent.
    if (protocol_given) request.protocol = o.link.protocol;
    request.profile = o.link.profile;
    request.from = o.from;
    request.to = o.to;
    request.search = o.search;
    fmt::print(stderr,
               "scanning bus {} through the gateway daemon (its polling pauses meanwhile) …\n",
               bus);
    auto r = ask_daemon("ecmgw scan", o.link.socket, request);
    if (!r) return report(r.error());
    for (const auto& note : (*r)["notes"]) fmt::print(stderr, "{}\n", note.get<std::string>());
    if (o.link.json) {
        fmt::print("{}\n", (*r)["report"].dump());
    }
    if (r->value("found", 0) == 0) {
        return report({kExitNoAnswer, fmt::format("ecmgw scan: no meter found on bus {}", bus)});
    }
    if (!o.link.json) fmt::print("{}", r->value("toml", ""));
    return kExitOk;
}

}  // namespace ecmgw::cli
