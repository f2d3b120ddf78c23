#include "cli/scan_command.hpp"

#include <fmt/core.h>

#include <csignal>
#include <set>

#include "cli/direct_link.hpp"
#include "cli/dlt645_search.hpp"
#include "cli/found_meter.hpp"
#include "cli/modbus_sweep.hpp"
#include "cli/output.hpp"

namespace ecmgw::cli {

namespace {

constexpr std::string_view kCommand = "ecmgw scan";
// A unit that exists answers a sweep's one short request well within this; a
// whole sweep of 247 units then takes under half a minute.
constexpr int kSweepTimeoutMs = 100;

volatile std::sig_atomic_t g_interrupted = 0;
void on_interrupt(int) { g_interrupted = 1; }
bool interrupted() { return g_interrupted != 0; }

// Ctrl-C ends a long search early and still prints what was found.
void catch_interrupt() {
    struct sigaction action {};
    action.sa_handler = on_interrupt;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
}

Expected<void, CommandError> check_flags(const ScanOptions& o) {
    auto bad = [](std::string message) {
        return unexpected(CommandError{kExitUsage, fmt::format("{}: {}", kCommand, message)});
    };
    if (!o.link.address.empty()) return bad("scan finds the addresses: leave out --address");
    if (o.from < 1 || o.to > 247 || o.from > o.to) {
        return bad(fmt::format("--from {} --to {}: expected 1 <= from <= to <= 247", o.from, o.to));
    }
    return {};
}

struct Collector {
    std::vector<FoundMeter> found;
    std::set<std::string> seen;

    bool add(const FoundMeter& m) {
        if (m.address.empty() || !seen.insert(m.address).second) return false;
        found.push_back(m);
        return true;
    }
};

void say(const std::string& line) { print_err(line + "\n"); }

Expected<void, CommandError> search(DirectLink& link, Collector& c, const ScanOutput& out) {
    Progress progress("addresses", kSearchFanOut, out.progress);
    auto found = [&](FoundMeter m) {
        if (c.add(m)) progress.found(found_line(link.setup(), m));
    };
    auto done = search_addresses(link, progress, found, out.stop);
    progress.finish();
    return done;
}

Expected<std::vector<FoundMeter>, CommandError> scan_addressed(DirectLink& link,
                                                               const ScanOptions& o,
                                                               const ScanOutput& out) {
    const auto& s = link.setup();
    Collector c;
    auto hearing = ask_wildcard(link);
    if (!hearing) return unexpected(hearing.error());
    if (c.add({hearing->address, 0, ""})) out.say(found_line(s, c.found.back()));
    if (!hearing->problem.empty()) {
        out.say(
            fmt::format("a meter answered the wildcard read-address, but: {}", hearing->problem));
    }
    const bool several = hearing->heard == Heard::Several;
    if (is_dlt645(s.meter.protocol) && (several || o.search)) {
        if (several) out.say("several meters answered the wildcard at once: searching by address");
        if (auto r = search(link, c, out); !r) return unexpected(r.error());
        if (several && c.found.empty()) {
            out.say(
                "no meter answered a partial wildcard: many meters accept only the full "
                "wildcard. Connect them one at a time, or take the addresses from their "
                "nameplates.");
        }
    } else if (several) {
        out.say(
            "several meters answered the wildcard at once, and CJ/T 188 has no address search: "
            "connect the meters one at a time, or take the addresses from their nameplates.");
    } else if (hearing->heard == Heard::Nobody && is_dlt645(s.meter.protocol)) {
        out.say(
            "no meter answered the wildcard read-address; --search also tries partial "
            "wildcards (slow: 100 requests or more)");
    }
    return c.found;
}

Expected<std::vector<FoundMeter>, CommandError> scan_units(DirectLink& link, const ScanOptions& o,
                                                           const ScanOutput& out) {
    Progress progress("units", static_cast<std::size_t>(o.to - o.from + 1), out.progress);
    auto found = sweep_units(link, {o.from, o.to}, progress, out.stop);
    progress.finish();
    return found;
}

int print_found(DirectLink& link, const ScanOptions& o, std::vector<FoundMeter> found) {
    if (interrupted()) say("interrupted: the scan did not finish");
    const bool none = found.empty();
    const ScanReport r{link.setup(), link.describe(), o.bus, std::move(found)};
    if (o.link.json) print_out(fmt::format("{}\n", to_json(r)));
    if (none) {
        return report({kExitNoAnswer,
                       fmt::format("{}: no meter found on {} ({}).\n{}", kCommand, link.describe(),
                                   config::to_string(link.setup().meter.protocol),
                                   wiring_hint(link.setup()))});
    }
    if (!o.link.json) print_out(fmt::format("{}", to_toml(r)));
    return kExitOk;
}

}  // namespace

Expected<MeterSetup, CommandError> plan_scan(const ScanOptions& o) {
    if (auto r = check_flags(o); !r) return unexpected(r.error());
    const bool modbus = protocol_of(o.link.protocol) == config::Protocol::Modbus;
    return plan_meter(
        o.link, {kCommand, modbus ? kSweepTimeoutMs : SetupRules{}.default_timeout_ms, false});
}

Expected<std::vector<FoundMeter>, CommandError> scan_link(DirectLink& link, const ScanOptions& o,
                                                          const ScanOutput& out) {
    return link.setup().meter.protocol == config::Protocol::Modbus ? scan_units(link, o, out)
                                                                   : scan_addressed(link, o, out);
}

int run_scan(const ScanOptions& o) {
    auto setup = plan_scan(o);
    if (!setup) return report(setup.error());
    auto link = DirectLink::open(std::move(*setup));
    if (!link) return report(link.error());
    catch_interrupt();
    auto found = scan_link(**link, o, {say, stderr, interrupted});
    if (!found) return report(found.error());
    return print_found(**link, o, std::move(*found));
}

}  // namespace ecmgw::cli
