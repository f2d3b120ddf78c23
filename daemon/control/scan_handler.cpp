// `scan BUS`: the technician's scan (daemon/cli/scan_command) run on the bus the
// daemon owns: the poller lends its port for the scan's duration, so scheduled
// reads pause instead of colliding with the scan's wildcard requests.
#include <memory>
#include <set>

#include "cli/scan_command.hpp"
#include "control/handlers.hpp"
#include "control/lent_bus.hpp"

namespace ecmgw::control {

namespace {

using nlohmann::json;

// A full Modbus sweep at 100 ms a unit, or a DL/T 645 search several levels deep.
constexpr std::chrono::minutes kScanLimit{10};

struct ScanOutcome {
    std::vector<std::string> notes;
    std::vector<cli::FoundMeter> found;
    std::string toml;
    std::string json;
    cli::CommandError error;
};

// The bus's link and line, the protocol asked for (else the one its meters
// speak), the Modbus profile (else the one its modbus meters use).
Expected<cli::ScanOptions, std::string> options_for(const config::Config& cfg,
                                                    const config::BusConfig& bus,
                                                    const ScanRequest& r) {
    cli::ScanOptions o;
    auto& l = o.link;
    if (bus.transport == config::Transport::Tcp) {
        l.host = bus.host;
        l.port = bus.port;
        l.framing = bus.framing == config::Framing::Tcp ? "tcp" : "rtu";
    } else {
        l.device = bus.device;
    }
    l.baud = bus.baud;
    l.parity = std::string(1, config::to_char(bus.parity));
    l.data_bits = bus.data_bits;
    l.stop_bits = bus.stop_bits;
    l.profiles_dir = cfg.gateway.profiles_dir.string();
    // The bus's meters answer within its timeout; a Modbus sweep keeps its own
    // short one (a unit that exists answers fast, and there are 247 to ask).
    std::set<std::string> protocols;
    std::string profile;
    for (const auto& m : cfg.meters) {
        if (m.bus != bus.name) continue;
        protocols.insert(std::string(config::to_string(m.protocol)));
        if (profile.empty()) profile = m.profile;
    }
    if (!r.protocol.empty()) {
        l.protocol = r.protocol;
    } else if (protocols.size() == 1) {
        l.protocol = *protocols.begin();
    } else {
        return unexpected(
            "bus " + bus.name +
            (protocols.empty() ? " has no meters configured" : " has meters of several protocols") +
            ": say which to scan for with --protocol");
    }
    l.profile = r.profile.empty() ? profile : r.profile;
    if (l.protocol != "modbus") l.timeout_ms = bus.timeout_ms;
    o.from = r.from;
    o.to = r.to;
    o.bus = bus.name;
    o.search = r.search;
    return o;
}

}  // namespace

void handle_scan(Session& s, const ScanRequest& r) {
    const auto* bus = s.cfg().find_bus(r.bus);
    if (bus == nullptr) return s.error("no bus " + r.bus + " in the gateway's config", kExitUsage);
    auto options = options_for(s.cfg(), *bus, r);
    if (!options) return s.error(options.error(), kExitUsage);
    auto setup = cli::plan_scan(*options);
    if (!setup) return s.error(setup.error().message, setup.error().exit_code);
    auto outcome = std::make_shared<ScanOutcome>();
    // Runs on the bus thread; shares nothing with this one but `outcome`.
    auto job = [outcome, o = *options, setup = *setup](transport::ByteLink& port,
                                                       const std::function<bool()>& stop) mutable {
        bus::CommandResult result;
        auto link = cli::DirectLink::borrow(std::move(setup), port);
        if (!link) {
            outcome->error = link.error();
            return result;
        }
        // Asked before each unit or address tried (see lent_bus.hpp).
        const cli::ScanOutput out{[&](const std::string& line) { outcome->notes.push_back(line); },
                                  nullptr, stop};
        auto found = cli::scan_link(**link, o, out);
        if (!found) {
            outcome->error = found.error();
            return result;
        }
        const cli::ScanReport report{(*link)->setup(), (*link)->describe(), o.bus, *found};
        outcome->toml = cli::to_toml(report);
        outcome->json = cli::to_json(report);
        outcome->found = std::move(*found);
        result.ok = true;
        return result;
    };
    auto done = run_on_lent_bus(s, r.bus, std::move(job), kScanLimit, "the scan");
    if (!done) return;
    if (!done->ok) {
        const std::string why =
            outcome->error.message.empty() ? done->error : outcome->error.message;
        return s.error(why, outcome->error.message.empty() ? kExitUsage : outcome->error.exit_code);
    }
    json report = json::parse(outcome->json, nullptr, false);
    s.ok({{"bus", r.bus},
          {"found", outcome->found.size()},
          {"notes", outcome->notes},
          {"toml", outcome->toml},
          {"report", report.is_discarded() ? json(outcome->json) : report}});
}

}  // namespace ecmgw::control
