#include "control/protocol.hpp"
#include "ecmgw/common/overloaded.hpp"

#include "core/outbox_format.hpp"
#include "uplink/command_auth.hpp"

namespace ecmgw::control {

namespace {

using nlohmann::json;

constexpr int kMaxEvents = 1000;

// Reads the members of a request object, remembering the first problem.
class Fields {
  public:
    explicit Fields(const json& body) : body_(body) {}

    std::string text(const char* name, bool required) {
        const auto it = body_.find(name);
        if (it == body_.end()) {
            if (required) fail(std::string("missing \"") + name + "\"");
            return {};
        }
        if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
            fail(std::string("\"") + name + "\" must be a non-empty string");
            return {};
        }
        return it->get<std::string>();
    }

    int integer(const char* name, int fallback, int min, int max) {
        const auto it = body_.find(name);
        if (it == body_.end()) return fallback;
        if (!it->is_number_integer() || it->get<std::int64_t>() < min ||
            it->get<std::int64_t>() > max) {
            fail(std::string("\"") + name + "\" must be an integer " + std::to_string(min) + ".." +
                 std::to_string(max));
            return fallback;
        }
        return it->get<int>();
    }

    bool flag(const char* name) {
        const auto it = body_.find(name);
        if (it == body_.end()) return false;
        if (!it->is_boolean()) {
            fail(std::string("\"") + name + "\" must be true or false");
            return false;
        }
        return it->get<bool>();
    }

    std::int64_t time(const char* name) {
        const std::string t = text(name, true);
        if (t.empty()) return 0;
        auto ms = parse_time_ms(t);
        if (!ms) fail(std::string("\"") + name + "\": " + ms.error().message);
        return ms ? *ms : 0;
    }

    json object(const char* name) {
        const auto it = body_.find(name);
        if (it == body_.end() || !it->is_object()) {
            fail(std::string("\"") + name + "\" must be an object");
            return json::object();
        }
        return *it;
    }

    void fail(std::string why) {
        if (error_.empty()) error_ = std::move(why);
    }
    const std::string& error() const { return error_; }

  private:
    const json& body_;
    std::string error_;
};

Expected<Request, std::string> parse_switch(Supply what, Fields& f) {
    SwitchRequest r{what, f.text("meter", true), SwitchAction::On};
    const std::string word = f.text("action", true);
    if (!f.error().empty()) return unexpected(f.error());
    auto action = switch_action(what, word);
    if (!action) {
        return unexpected("\"action\" of " + std::string(to_string(what)) + " must be " +
                          (what == Supply::Relay ? "on, off or auto" : "open, close or auto") +
                          ", found \"" + word + "\"");
    }
    r.action = *action;
    return Request{r};
}

Expected<Request, std::string> parse_op(const std::string& op, Fields& f) {
    Request r;
    if (op == "status") {
        r = StatusRequest{};
    } else if (op == "buses") {
        r = BusesRequest{};
    } else if (op == "read") {
        r = ReadRequest{f.text("meter", true)};
    } else if (op == "relay") {
        return parse_switch(Supply::Relay, f);
    } else if (op == "valve") {
        return parse_switch(Supply::Valve, f);
    } else if (op == "scan") {
        ScanRequest s;
        s.bus = f.text("bus", true);
        s.protocol = f.text("protocol", false);
        s.profile = f.text("profile", false);
        s.from = f.integer("from", 1, 1, 247);
        s.to = f.integer("to", 247, 1, 247);
        s.search = f.flag("search");
        if (s.from > s.to) f.fail("\"from\" must not be above \"to\"");
        r = s;
    } else if (op == "reload") {
        r = ReloadRequest{};
    } else if (op == "direct") {
        DirectRequest d{f.text("bus", true), f.text("command", true), f.object("options")};
        if (f.error().empty() && d.command != "read" && d.command != "relay" &&
            d.command != "valve") {
            f.fail("\"command\" must be read, relay or valve, found \"" + d.command + "\"");
        }
        r = std::move(d);
    } else if (op == "events") {
        r = EventsRequest{f.integer("last", 10, 0, kMaxEvents), f.flag("follow")};
    } else if (op == "export") {
        ExportRequest e;
        e.from_ms = f.time("from");
        e.to_ms = f.time("to");
        e.meter = f.text("meter", false);
        if (f.error().empty() && e.from_ms >= e.to_ms) f.fail("\"from\" must be before \"to\"");
        r = e;
    } else {
        return unexpected("unknown op \"" + op +
                          "\"; known: status, buses, read, relay, valve, scan, direct, events, "
                          "export, reload");
    }
    if (!f.error().empty()) return unexpected(f.error());
    return r;
}

bool digits(std::string_view s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

}  // namespace

Expected<std::int64_t> parse_time_ms(std::string_view text) {
    // A bare date is the start of that day in UTC: what an export "from a day" means
    // when the technician does not think in offsets.
    if (text.size() == 10 && text[4] == '-' && text[7] == '-' && digits(text.substr(0, 4)) &&
        digits(text.substr(5, 2)) && digits(text.substr(8, 2))) {
        return uplink::parse_rfc3339_ms(std::string(text) + "T00:00:00Z");
    }
    auto ms = uplink::parse_rfc3339_ms(text);
    if (!ms) {
        return fail("\"" + std::string(text) +
                    "\" is not a time: expected RFC 3339 (2026-11-24T08:00:00Z, "
                    "2026-11-24T16:00:00+08:00) or a date (2026-11-24)");
    }
    return ms;
}

Expected<Request, std::string> parse_request(std::string_view line) {
    json body = json::parse(line, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
        return unexpected(std::string("a request is one JSON object per line"));
    }
    Fields f(body);
    const std::string op = f.text("op", true);
    if (!f.error().empty()) return unexpected(f.error());
    return parse_op(op, f);
}

std::string request_line(const Request& request) {
    const json body =
        std::visit(Overloaded{
                       [](const StatusRequest&) {
                           return json{{"op", "status"}};
                       },
                       [](const BusesRequest&) {
                           return json{{"op", "buses"}};
                       },
                       [](const ReadRequest& r) {
                           return json{{"op", "read"}, {"meter", r.meter}};
                       },
                       [](const SwitchRequest& r) {
                           return json{{"op", to_string(r.what)},
                                       {"meter", r.meter},
                                       {"action", to_string(r.what, r.action)}};
                       },
                       [](const ScanRequest& r) {
                           json j{{"op", "scan"}, {"bus", r.bus}, {"from", r.from}, {"to", r.to}};
                           if (!r.protocol.empty()) j["protocol"] = r.protocol;
                           if (!r.profile.empty()) j["profile"] = r.profile;
                           if (r.search) j["search"] = true;
                           return j;
                       },
                       [](const ReloadRequest&) {
                           return json{{"op", "reload"}};
                       },
                       [](const DirectRequest& r) {
                           return json{{"op", "direct"},
                                       {"bus", r.bus},
                                       {"command", r.command},
                                       {"options", r.options}};
                       },
                       [](const EventsRequest& r) {
                           return json{{"op", "events"}, {"last", r.last}, {"follow", r.follow}};
                       },
                       [](const ExportRequest& r) {
                           json j{{"op", "export"},
                                  {"from", core::rfc3339_utc(r.from_ms)},
                                  {"to", core::rfc3339_utc(r.to_ms)}};
                           if (!r.meter.empty()) j["meter"] = r.meter;
                           return j;
                       },
                   },
                   request);
    return body.dump();
}

std::string_view to_string(Supply s) { return s == Supply::Relay ? "relay" : "valve"; }

std::string_view to_string(Supply s, SwitchAction a) {
    switch (a) {
        case SwitchAction::On:
            return s == Supply::Relay ? "on" : "open";
        case SwitchAction::Off:
            return s == Supply::Relay ? "off" : "close";
        case SwitchAction::Auto:
            break;
    }
    return "auto";
}

std::optional<SwitchAction> switch_action(Supply s, std::string_view word) {
    for (auto a : {SwitchAction::On, SwitchAction::Off, SwitchAction::Auto}) {
        if (to_string(s, a) == word) return a;
    }
    return std::nullopt;
}

nlohmann::json ok_line(nlohmann::json result) {
    return json{{"ok", true}, {"result", std::move(result)}};
}

nlohmann::json error_line(std::string_view message, int exit_code) {
    return json{{"ok", false}, {"error", message}, {"exit", exit_code}};
}

nlohmann::json item_line(nlohmann::json item) { return json{{"item", std::move(item)}}; }

}  // namespace ecmgw::control
