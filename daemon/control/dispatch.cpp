#include "control/handlers.hpp"
#include "ecmgw/common/overloaded.hpp"

namespace ecmgw::control {

void dispatch(Session& s, std::string_view line) {
    auto request = parse_request(line);
    if (!request) {
        s.error(request.error(), kExitUsage);
        return;
    }
    std::visit(Overloaded{
                   [&](const StatusRequest&) { handle_status(s); },
                   [&](const BusesRequest&) { handle_buses(s); },
                   [&](const ReadRequest& r) { handle_read(s, r); },
                   [&](const SwitchRequest& r) { handle_switch(s, r); },
                   [&](const ScanRequest& r) { handle_scan(s, r); },
                   [&](const DirectRequest& r) { handle_direct(s, r); },
                   [&](const ReloadRequest&) { handle_reload(s); },
                   [&](const EventsRequest& r) { handle_events(s, r); },
                   [&](const ExportRequest& r) { handle_export(s, r); },
               },
               *request);
}

}  // namespace ecmgw::control
