// The control socket's protocol (docs/control.md): the client writes one JSON
// object per line, a request; the daemon answers with JSON objects, one per
// line: zero or more {"item": …} (streamed rows: events, readings, meters found)
// and then one final {"ok": true, "result": …} or {"ok": false, "error": …,
// "exit": N}. Both sides use these types, so what the CLI sends is what the
// daemon parses.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "ecmgw/common/expected.hpp"

namespace ecmgw::control {

// Where the daemon listens unless [control] socket says otherwise.
inline constexpr std::string_view kDefaultSocket = "/run/ecmgw/control.sock";
// A request line longer than this is refused (and the connection closed).
inline constexpr std::size_t kMaxRequestBytes = 64 * 1024;

// Exit codes the daemon's errors carry, the same as the direct commands'.
inline constexpr int kExitUsage = 1;
inline constexpr int kExitNoAnswer = 2;
inline constexpr int kExitRefused = 3;

struct StatusRequest {};
// The same reload as SIGHUP; the answer is its outcome.
struct ReloadRequest {};
// The daemon's buses and what they are (device, serial server): cheap, no store.
struct BusesRequest {};
struct ReadRequest {
    std::string meter;
};
enum class Supply { Relay, Valve };
// on/open, off/close, or auto: end the local override, back to the prepaid decision.
enum class SwitchAction { On, Off, Auto };
struct SwitchRequest {
    Supply what = Supply::Relay;
    std::string meter;
    SwitchAction action = SwitchAction::On;
};
struct ScanRequest {
    std::string bus;
    std::string protocol;  // empty: the protocol of the bus's meters
    std::string profile;   // modbus: the profile whose first read probes a unit
    int from = 1;          // modbus unit ids
    int to = 247;
    bool search = false;  // DL/T 645: partial-wildcard search
};
// A direct command (`ecmgw read|relay|valve --device …`) on a port that is one of
// the daemon's buses: the daemon runs it on that bus and sends back its output.
struct DirectRequest {
    std::string bus;
    std::string command;     // "read", "relay", "valve"
    nlohmann::json options;  // the command's flags (cli/direct_options)
};
struct EventsRequest {
    int last = 10;  // the newest events stored so far, 0..1000
    bool follow = false;
};
struct ExportRequest {
    std::int64_t from_ms = 0;  // from_ms <= ts_ms < to_ms
    std::int64_t to_ms = 0;
    std::string meter;  // empty: every meter
};

using Request = std::variant<StatusRequest, BusesRequest, ReadRequest, SwitchRequest, ScanRequest,
                             DirectRequest, EventsRequest, ExportRequest, ReloadRequest>;

// A time as the technician writes it: RFC 3339 ("2026-11-24T08:00:00Z", with
// an offset or milliseconds), or a date ("2026-11-24", midnight UTC).
Expected<std::int64_t> parse_time_ms(std::string_view text);

// One request line; the error says what is wrong in words for the technician.
Expected<Request, std::string> parse_request(std::string_view line);
// The request as the client sends it (one line, without the newline).
std::string request_line(const Request& request);

std::string_view to_string(Supply s);                  // "relay", "valve"
std::string_view to_string(Supply s, SwitchAction a);  // "on"/"off"/"auto", "open"/"close"/"auto"
// "on", "off", "auto" for a relay; "open", "close", "auto" for a valve.
std::optional<SwitchAction> switch_action(Supply s, std::string_view word);

// The final lines and items the daemon writes.
nlohmann::json ok_line(nlohmann::json result);
nlohmann::json error_line(std::string_view message, int exit_code);
nlohmann::json item_line(nlohmann::json item);

}  // namespace ecmgw::control
