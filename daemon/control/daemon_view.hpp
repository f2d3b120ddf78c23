// What the control socket's handlers may reach of the running daemon. They read
// (snapshots, stats, their own store connection) and ask (a bus's command queue,
// a job posted to the ingest thread); nothing here writes the store itself.
// Buses are reached by meter or bus name through the daemon's PollerSet, so a
// config reload that restarts a bus never leaves a handler holding a stopped poller.
#pragma once

#include <filesystem>
#include <functional>
#include <future>
#include <optional>
#include <string>
#include <vector>

#include "bus/bus_poller.hpp"
#include "control/reload_desk.hpp"
#include "core/ingest.hpp"
#include "core/prepaid_core.hpp"
#include "uplink/mqtt_uplink.hpp"

namespace ecmgw::app {
class PollerSet;
}

namespace ecmgw::control {

using CommandFuture = std::optional<std::future<bus::CommandResult>>;

struct DaemonView {
    std::function<std::vector<bus::BusSnapshot>()> snapshots;
    // nullopt: no bus has that meter (or bus).
    std::function<CommandFuture(const std::string& meter)> read_now;
    std::function<CommandFuture(const std::string& bus, bus::BusPoller::LinkJob job)> with_link;
    core::Ingest& ingest;
    core::PrepaidCore& prepaid;  // used only from jobs posted to `ingest`
    const uplink::MqttUplink& uplink;
    std::filesystem::path database;
    ReloadDesk& reloads;  // `reload`: asks the main loop, waits for its outcome
};

// The view of a daemon whose buses are `pollers`; the references must outlive it.
DaemonView view_of(app::PollerSet& pollers, core::Ingest& ingest, core::PrepaidCore& prepaid,
                   const uplink::MqttUplink& uplink, std::filesystem::path database,
                   ReloadDesk& reloads);

}  // namespace ecmgw::control
