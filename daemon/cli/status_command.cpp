#include "cli/status_command.hpp"

#include <fmt/core.h>

#include <map>

#include "cli/daemon_link.hpp"
#include "cli/output.hpp"
#include "cli/table.hpp"

namespace ecmgw::cli {

namespace {

using nlohmann::json;

std::string str(const json& j, const char* key) {
    const auto it = j.find(key);
    if (it == j.end() || it->is_null()) return "";
    return it->is_string() ? it->get<std::string>() : it->dump();
}

long long num(const json& j, const char* key) { return j.value(key, 0LL); }

std::string header(const json& r) {
    const auto& cloud = r["cloud"];
    const auto& outbox = r["outbox"];
    std::string out = fmt::format("gateway {} at {}\n", str(r, "gateway"), str(r, "now"));
    out += fmt::format(
        "cloud   {} {}: {} message(s), {} record(s) published, last seq {}{}\n",
        cloud.value("connected", false) ? "connected to" : "OFFLINE from", str(cloud, "uri"),
        num(cloud, "messages"), num(cloud, "records"), num(cloud, "last_acked_seq"),
        str(cloud, "last_error").empty() ? "" : " (" + str(cloud, "last_error") + ")");
    if (num(outbox, "count") == 0) {
        out += "outbox  empty\n";
    } else {
        out += fmt::format("outbox  {} record(s) waiting, seq {}..{}, {} bytes\n",
                           num(outbox, "count"), num(outbox, "first_seq"), num(outbox, "last_seq"),
                           num(outbox, "bytes"));
    }
    return out;
}

std::string buses_table(const json& r) {
    Table t({"BUS", "PORT", "STATE", "REQUESTS", "ANSWERS", "TIMEOUTS", "CHECKSUM", "NOISE",
             "REOPENS"});
    for (const auto& b : r["buses"]) {
        const auto& c = b["counters"];
        t.add({str(b, "name"), str(b, "link"), b.value("port_open", false) ? "open" : "CLOSED",
               str(c, "requests"), str(c, "answers"), str(c, "timeouts"), str(c, "checksum_errors"),
               str(c, "noise_bytes"), str(b, "reopens")});
    }
    return t.render();
}

std::string supply_text(const json& m) {
    const auto it = m.find("supply");
    if (it == m.end()) return "-";
    const auto& s = *it;
    std::string text = str(s, "desired");
    if (str(s, "force") != "none")
        text += " (forced " + str(s, "force") + ")";
    else if (!str(s, "reason").empty())
        text += " (" + str(s, "reason") + ")";
    text += ", seen " + str(s, "observed");
    return text;
}

std::string meters_table(const json& r) {
    std::map<std::string, json> stats;
    for (const auto& b : r["buses"])
        for (const auto& m : b["meters"]) stats[str(m, "id")] = m;
    Table t({"METER", "BUS", "STATE", "LAST READING", "AGE", "ACCOUNT", "SUPPLY"});
    for (const auto& m : r["meters"]) {
        std::string state = "not polled";
        if (auto s = stats.find(str(m, "id")); s != stats.end()) {
            state = s->second.value("dead", false)                ? "NOT ANSWERING"
                    : s->second.value("last_success_ms", 0LL) > 0 ? "answering"
                                                                  : "not read yet";
        }
        std::string reading = "-", age = "-";
        if (auto l = m.find("last_reading"); l != m.end()) {
            reading = str(*l, "quantity") + " " + str(*l, "value");
            age = age_text(num(*l, "age_s"));
        }
        t.add({str(m, "id"), str(m, "bus"), state, reading, age,
               str(m, "account").empty() ? "-" : str(m, "account"), supply_text(m)});
    }
    return t.render();
}

std::string accounts_table(const json& r) {
    Table t({"ACCOUNT", "BALANCE", "METERS", "FLAGS"});
    for (const auto& a : r["accounts"]) {
        std::string meters;
        for (const auto& m : a["meters"])
            meters += (meters.empty() ? "" : " ") + m.get<std::string>();
        std::string flags;
        if (a.value("keep_power", false)) flags += "keep-power ";
        if (a.value("emergency_active", false)) flags += "emergency-credit ";
        t.add({str(a, "id"), yuan(num(a, "balance_fen")), meters.empty() ? "-" : meters,
               flags.empty() ? "-" : flags});
    }
    return t.render();
}

}  // namespace

int run_status(const StatusOptions& o) {
    auto r = ask_daemon("ecmgw status", o.socket, control::StatusRequest{});
    if (!r) return report(r.error());
    if (o.json) {
        fmt::print("{}\n", r->dump());
        return kExitOk;
    }
    fmt::print("{}\n{}\n{}", header(*r), buses_table(*r), meters_table(*r));
    if (!(*r)["accounts"].empty()) fmt::print("\n{}", accounts_table(*r));
    return kExitOk;
}

}  // namespace ecmgw::cli
