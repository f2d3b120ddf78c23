#include "cli/events_command.hpp"

#include <fmt/core.h>

#include <cstdio>

#include "cli/daemon_link.hpp"
#include "cli/output.hpp"

namespace ecmgw::cli {

namespace {

std::string or_dash(const std::string& s) { return s.empty() ? "-" : s; }

void print_event(const nlohmann::json& e, bool json) {
    if (json) {
        fmt::print("{}\n", e.dump());
    } else {
        fmt::print("{}  {:<24} {:<10} {:<10} {}\n", e.value("ts", ""), e.value("type", ""),
                   or_dash(e.value("meter", "")), or_dash(e.value("account", "")),
                   e.contains("body") ? e["body"].dump() : "");
    }
    // A follower reads line by line through a pipe (a log shipper, a test).
    std::fflush(stdout);
}

}  // namespace

int run_events(const EventsOptions& o) {
    const control::EventsRequest request{o.last, o.follow};
    auto done = ask_daemon("ecmgw events", o.socket, request, [&](const nlohmann::json& e) {
        print_event(e, o.json);
        return true;
    });
    if (!done) return report(done.error());
    return kExitOk;
}

}  // namespace ecmgw::cli
