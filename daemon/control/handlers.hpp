// The requests the control socket serves, one handler each (one file each).
// Every handler ends with exactly one final line (Session::ok or ::error),
// except a followed event stream, which ends when the client or daemon goes.
#pragma once

#include "control/protocol.hpp"
#include "control/session.hpp"

namespace ecmgw::control {

void handle_status(Session& s);
void handle_buses(Session& s);
void handle_read(Session& s, const ReadRequest& r);
void handle_switch(Session& s, const SwitchRequest& r);
void handle_scan(Session& s, const ScanRequest& r);
void handle_direct(Session& s, const DirectRequest& r);
void handle_reload(Session& s);
void handle_events(Session& s, const EventsRequest& r);
void handle_export(Session& s, const ExportRequest& r);

// Parses `line` and runs its handler.
void dispatch(Session& s, std::string_view line);

}  // namespace ecmgw::control
