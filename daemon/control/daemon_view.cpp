#include "control/daemon_view.hpp"

#include "app/poller_set.hpp"

namespace ecmgw::control {

DaemonView view_of(app::PollerSet& pollers, core::Ingest& ingest, core::PrepaidCore& prepaid,
                   const uplink::MqttUplink& uplink, std::filesystem::path database,
                   ReloadDesk& reloads) {
    return DaemonView{[&pollers] { return pollers.snapshots(); },
                      [&pollers](const std::string& meter) { return pollers.read_now(meter); },
                      [&pollers](const std::string& bus, bus::BusPoller::LinkJob job) {
                          return pollers.with_link(bus, std::move(job));
                      },
                      ingest,
                      prepaid,
                      uplink,
                      std::move(database),
                      reloads};
}

}  // namespace ecmgw::control
