// `direct`: a direct technician command (`ecmgw read|relay|valve --device …`) whose
// port is a bus the daemon owns. Instead of a second master fighting over the
// port, the daemon runs the command's own code (daemon/cli) on the bus's lent
// port, with the bus's line settings, and sends back what it printed and its exit
// code, so the technician sees what the command shows without a daemon.
#include <memory>

#include "cli/daemon_link.hpp"
#include "cli/direct_link.hpp"
#include "cli/direct_options.hpp"
#include "cli/output.hpp"
#include "cli/read_command.hpp"
#include "control/handlers.hpp"
#include "control/lent_bus.hpp"

namespace ecmgw::control {

namespace {

// A valve's read-back may take half a minute, after the meter's own timeouts.
constexpr std::chrono::minutes kDirectLimit{2};

struct DirectOutcome {
    cli::CapturedText text;
    int exit = kExitUsage;
};

}  // namespace

void handle_direct(Session& s, const DirectRequest& r) {
    const auto* bus = s.cfg().find_bus(r.bus);
    if (bus == nullptr) return s.error("no bus " + r.bus + " in the gateway's config", kExitUsage);
    cli::SwitchOptions o;
    try {
        if (r.command == "read") {
            o.link = cli::link_options_of(r.options);
        } else {
            o = cli::switch_options_of(r.options);
        }
    } catch (const nlohmann::json::exception& e) {
        return s.error(std::string("\"options\": ") + e.what(), kExitUsage);
    }
    if (!cli::same_port(*bus, cli::port_of(o.link))) {
        return s.error(
            cli::describe_port(cli::port_of(o.link)) + " is not the port of bus " + r.bus,
            kExitUsage);
    }
    auto outcome = std::make_shared<DirectOutcome>();
    // Runs on the bus thread; shares nothing with this one but `outcome`.
    auto job = [outcome, bus = *bus, o, command = r.command](transport::ByteLink& port,
                                                             const std::function<bool()>&) {
        const cli::CaptureOutput capture(outcome->text);
        const cli::LentPort lent(bus, port, o.link);
        outcome->exit =
            command == "read"
                ? cli::run_read(o.link)
                : cli::run_switch(
                      command == "relay" ? cli::SupplySwitch::Relay : cli::SupplySwitch::Valve, o);
        bus::CommandResult result;
        result.ok = true;
        return result;
    };
    auto done = run_on_lent_bus(s, r.bus, std::move(job), kDirectLimit, "the command");
    if (!done) return;
    if (!done->ok) return s.error(done->error, kExitUsage);
    s.ok({{"exit", outcome->exit}, {"stdout", outcome->text.out}, {"stderr", outcome->text.err}});
}

}  // namespace ecmgw::control
