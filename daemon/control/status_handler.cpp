// `status`: the buses (BusPoller::snapshot), each meter's last stored reading and
// supply state, the accounts, the outbox backlog and the cloud link.
#include <map>

#include "control/handlers.hpp"
#include "core/outbox_format.hpp"
#include "core/prepaid_engine.hpp"
#include "platform/wall_clock.hpp"

namespace ecmgw::control {

namespace {

using nlohmann::json;

json counters_json(const bus::LinkCounters& c) {
    return {{"requests", c.requests},
            {"answers", c.answers},
            {"timeouts", c.timeouts},
            {"noise_bytes", c.noise_bytes},
            {"checksum_errors", c.checksum_errors},
            {"foreign_frames", c.foreign_frames}};
}

json meter_stats_json(const bus::MeterSnapshot& m) {
    const auto& s = m.stats;
    json j{{"id", m.id},
           {"describe", m.describe},
           {"transactions", s.transactions},
           {"answers", s.answers},
           {"timeouts", s.timeouts},
           {"garbled", s.garbled},
           {"refused", s.refused},
           {"invalid", s.invalid},
           {"readings", s.readings},
           {"dead", s.dead},
           {"last_success_ms", s.last_success_ms}};
    if (m.latency.samples > 0) {
        j["latency_ms"] = {{"p50", m.latency.p50.count() / 1000.0},
                           {"p95", m.latency.p95.count() / 1000.0},
                           {"p99", m.latency.p99.count() / 1000.0},
                           {"max", m.latency.max.count() / 1000.0},
                           {"samples", m.latency.samples}};
    }
    return j;
}

json bus_json(const bus::BusSnapshot& b) {
    json meters = json::array();
    for (const auto& m : b.meters) meters.push_back(meter_stats_json(m));
    return {{"name", b.name},
            {"link", b.link},
            {"port_open", b.port_open},
            {"reopens", b.reopens},
            {"time_syncs", b.time_syncs},
            {"counters", counters_json(b.counters)},
            {"meters", std::move(meters)}};
}

// The meter's billing register when it has one stored, else the first of its
// configured quantities that is: the value a technician compares with the display.
Expected<std::optional<store::Reading>> last_reading(store::Store& st, const config::Config& cfg,
                                                     const config::MeterConfig& m) {
    std::vector<std::string> candidates{core::billing_quantity(cfg, m)};
    candidates.insert(candidates.end(), m.quantities.begin(), m.quantities.end());
    for (const auto& q : candidates) {
        auto r = st.latest_reading(m.id, q);
        if (!r) return unexpected(r.error());
        if (*r) return r;
    }
    return std::optional<store::Reading>{};
}

json supply_json(const store::SupplyRow& row) {
    return {{"desired", row.desired},
            {"reason", row.reason},
            {"force", row.force},
            {"observed", row.observed},
            {"observed_ms", row.observed_ms},
            {"desired_ms", row.desired_ms},
            {"switches_today", row.switches_today},
            {"attempts", row.attempts}};
}

Expected<json> meters_json(Session& s, std::int64_t now_ms) {
    auto st = s.store();
    if (!st) return unexpected(st.error());
    auto tables = s.tables();
    if (!tables) return unexpected(tables.error());
    auto supplies = (*tables)->supplies();
    if (!supplies) return unexpected(supplies.error());
    std::map<std::string, store::SupplyRow> supply_of;
    for (auto& row : *supplies) supply_of[row.meter] = row;
    const auto& cfg = s.cfg();
    json out = json::array();
    for (const auto& m : cfg.meters) {
        json j{{"id", m.id},
               {"bus", m.bus},
               {"protocol", config::to_string(m.protocol)},
               {"kind", config::to_string(m.kind)},
               {"account", m.account}};
        auto last = last_reading(**st, cfg, m);
        if (!last) return unexpected(last.error());
        if (*last) {
            const auto& r = **last;
            j["last_reading"] = {{"quantity", r.quantity},
                                 {"value", r.value.to_string()},
                                 {"ts", core::rfc3339_utc(r.ts_ms)},
                                 {"ts_ms", r.ts_ms},
                                 {"age_s", (now_ms - r.ts_ms) / 1000}};
        }
        if (auto it = supply_of.find(m.id); it != supply_of.end()) {
            j["supply"] = supply_json(it->second);
        }
        out.push_back(std::move(j));
    }
    return out;
}

Expected<json> accounts_json(Session& s) {
    auto tables = s.tables();
    if (!tables) return unexpected(tables.error());
    auto rows = (*tables)->accounts();
    if (!rows) return unexpected(rows.error());
    json out = json::array();
    for (const auto& a : *rows) {
        json j{{"id", a.id},
               {"balance_fen", a.balance_fen},
               {"emergency_active", a.emergency_active},
               {"warn_level", a.warn_level}};
        // The command's setting, else the configured one.
        bool keep = false;
        if (const auto* c = s.cfg().find_account(a.id)) keep = c->keep_power;
        j["keep_power"] = a.keep_power.value_or(keep);
        json meters = json::array();
        for (const auto& m : s.cfg().meters)
            if (m.account == a.id) meters.push_back(m.id);
        j["meters"] = std::move(meters);
        out.push_back(std::move(j));
    }
    return out;
}

}  // namespace

void handle_status(Session& s) {
    const auto now_ms = platform::wall_ms();
    const auto& d = s.daemon();
    json buses = json::array();
    for (const auto& b : d.snapshots()) buses.push_back(bus_json(b));
    auto meters = meters_json(s, now_ms);
    if (!meters) return s.error(meters.error().message, kExitUsage);
    auto accounts = accounts_json(s);
    if (!accounts) return s.error(accounts.error().message, kExitUsage);
    auto st = s.store();
    auto backlog = (*st)->outbox_stats();
    if (!backlog) return s.error("store: " + backlog.error().message, kExitUsage);
    const auto up = d.uplink.stats();
    s.ok({{"gateway", s.cfg().gateway.id},
          {"now", core::rfc3339_utc(now_ms)},
          {"now_ms", now_ms},
          {"buses", std::move(buses)},
          {"meters", std::move(*meters)},
          {"accounts", std::move(*accounts)},
          {"outbox",
           {{"count", backlog->count},
            {"first_seq", backlog->first_seq},
            {"last_seq", backlog->last_seq},
            {"bytes", backlog->bytes}}},
          {"cloud",
           {{"uri", s.cfg().cloud.uri},
            {"connected", up.connected},
            {"messages", up.messages},
            {"records", up.records},
            {"last_acked_seq", up.last_acked_seq},
            {"last_error", up.last_error}}}});
}

void handle_buses(Session& s) {
    json out = json::array();
    for (const auto& b : s.cfg().buses) {
        json j{{"name", b.name}, {"transport", config::to_string(b.transport)}};
        if (b.transport == config::Transport::Tcp) {
            j["host"] = b.host;
            j["port"] = b.port;
        } else {
            j["device"] = b.device;
        }
        json meters = json::array();
        for (const auto& m : s.cfg().meters)
            if (m.bus == b.name) meters.push_back(m.id);
        j["meters"] = std::move(meters);
        out.push_back(std::move(j));
    }
    s.ok({{"buses", std::move(out)}});
}

}  // namespace ecmgw::control
