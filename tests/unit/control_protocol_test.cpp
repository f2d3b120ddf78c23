// The control socket's request lines (daemon/control/protocol): what the CLI
// sends parses back to the same request, and every malformed line is refused
// with words a technician understands, never an exception.
#include <doctest/doctest.h>

#include "cli/export_command.hpp"
#include "control/protocol.hpp"

using namespace ecmgw::control;

namespace {

Request parsed(std::string_view line) {
    auto r = parse_request(line);
    REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error()));
    return *r;
}

std::string refusal(std::string_view line) {
    auto r = parse_request(line);
    REQUIRE_FALSE(r.has_value());
    return r.error();
}

}  // namespace

TEST_CASE("each request the CLI writes parses back to itself") {
    const std::vector<Request> requests{
        StatusRequest{},
        BusesRequest{},
        ReadRequest{"E-0101"},
        SwitchRequest{Supply::Relay, "E-0101", SwitchAction::Off},
        SwitchRequest{Supply::Valve, "W-0001", SwitchAction::Auto},
        ScanRequest{"floor1", "modbus", "eastron-sdm120", 3, 17, true},
        EventsRequest{0, true},
        ExportRequest{1795586044476, 1795586104476, "E-0102"},
        DirectRequest{
            "floor1", "relay", {{"link", {{"device", "/dev/ttyUSB0"}}}, {"action", "off"}}},
        ReloadRequest{},
    };
    for (const auto& r : requests) {
        const auto line = request_line(r);
        CAPTURE(line);
        CHECK(line.find('\n') == std::string::npos);
        const auto back = parsed(line);
        CHECK(back.index() == r.index());
        CHECK(request_line(back) == line);
    }
}

TEST_CASE("switch actions are the words of the thing switched") {
    auto relay = std::get<SwitchRequest>(parsed(R"({"op":"relay","meter":"E-1","action":"off"})"));
    CHECK(relay.what == Supply::Relay);
    CHECK(relay.action == SwitchAction::Off);
    auto valve = std::get<SwitchRequest>(parsed(R"({"op":"valve","meter":"W-1","action":"open"})"));
    CHECK(valve.action == SwitchAction::On);
    CHECK(refusal(R"({"op":"valve","meter":"W-1","action":"on"})").find("open, close or auto") !=
          std::string::npos);
    CHECK(refusal(R"({"op":"relay","meter":"E-1","action":"close"})").find("on, off or auto") !=
          std::string::npos);
    CHECK(refusal(R"({"op":"relay","action":"on"})") == "missing \"meter\"");
}

TEST_CASE("defaults and limits of the optional members") {
    auto events = std::get<EventsRequest>(parsed(R"({"op":"events"})"));
    CHECK(events.last == 10);
    CHECK_FALSE(events.follow);
    CHECK(refusal(R"({"op":"events","last":5000})") == "\"last\" must be an integer 0..1000");
    CHECK(refusal(R"({"op":"events","follow":"yes"})") == "\"follow\" must be true or false");
    auto scan = std::get<ScanRequest>(parsed(R"({"op":"scan","bus":"b"})"));
    CHECK(scan.from == 1);
    CHECK(scan.to == 247);
    CHECK(scan.protocol.empty());
    CHECK(refusal(R"({"op":"scan","bus":"b","from":9,"to":3})") ==
          "\"from\" must not be above \"to\"");
    CHECK(refusal(R"({"op":"scan","bus":"b","to":300})") == "\"to\" must be an integer 1..247");
}

TEST_CASE("export times: RFC 3339 or a date, from before to") {
    auto e = std::get<ExportRequest>(
        parsed(R"({"op":"export","from":"2026-11-24","to":"2026-11-24T08:00:00.250+08:00"})"));
    CHECK(e.from_ms == 1795478400000);
    CHECK(e.to_ms == 1795478400250);
    CHECK(e.meter.empty());
    CHECK(refusal(R"({"op":"export","from":"2026-11-25","to":"2026-11-24"})") ==
          "\"from\" must be before \"to\"");
    CHECK(refusal(R"({"op":"export","from":"yesterday","to":"2026-11-24"})").find("RFC 3339") !=
          std::string::npos);
    CHECK(refusal(R"({"op":"export","to":"2026-11-24"})") == "missing \"from\"");
}

TEST_CASE("malformed lines are refused, not thrown") {
    CHECK(refusal("") == "a request is one JSON object per line");
    CHECK(refusal("not json") == "a request is one JSON object per line");
    CHECK(refusal("[1,2]") == "a request is one JSON object per line");
    CHECK(refusal(R"({"op":42})") == "\"op\" must be a non-empty string");
    CHECK(refusal(R"({"op":"reboot"})").find("unknown op \"reboot\"") == 0);
    CHECK(refusal(R"({"op":"read","meter":""})") == "\"meter\" must be a non-empty string");
    CHECK(refusal(R"({"op":"read","meter":["E-1"]})") == "\"meter\" must be a non-empty string");
    CHECK(refusal(R"({"op":"events","last":1.5})") == "\"last\" must be an integer 0..1000");
}

TEST_CASE("response lines: items, the final ok and the final error") {
    CHECK(item_line({{"id", 1}}).dump() == R"({"item":{"id":1}})");
    CHECK(ok_line({{"rows", 3}}).dump() == R"({"ok":true,"result":{"rows":3}})");
    CHECK(error_line("no meter X", kExitUsage).dump() ==
          R"({"error":"no meter X","exit":1,"ok":false})");
}

TEST_CASE("parse_time_ms takes dates as midnight UTC") {
    CHECK(parse_time_ms("1970-01-02").value() == 86400000);
    CHECK(parse_time_ms("1970-01-01T00:00:01Z").value() == 1000);
    CHECK_FALSE(parse_time_ms("1970-1-2").has_value());
    CHECK_FALSE(parse_time_ms("").has_value());
}

TEST_CASE("CSV fields are quoted only when they must be (RFC 4180)") {
    CHECK(ecmgw::cli::csv_field("E-0101") == "E-0101");
    CHECK(ecmgw::cli::csv_field("a,b") == "\"a,b\"");
    CHECK(ecmgw::cli::csv_field("say \"hi\"") == "\"say \"\"hi\"\"\"");
    CHECK(ecmgw::cli::csv_field("two\nlines") == "\"two\nlines\"");
}

TEST_CASE("a direct command names a bus, one of the direct commands and its flags") {
    CHECK(refusal(R"({"op":"direct","bus":"floor1","command":"scan","options":{}})")
              .find("\"command\" must be read, relay or valve") != std::string::npos);
    CHECK(refusal(R"({"op":"direct","bus":"floor1","command":"read"})")
              .find("\"options\" must be an object") != std::string::npos);
    CHECK(refusal(R"({"op":"direct","command":"read","options":{}})").find("missing \"bus\"") !=
          std::string::npos);
}
