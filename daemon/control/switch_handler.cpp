// `relay METER on|off|auto`, `valve METER open|close|auto`: a local override.
// It goes where a cloud supply_force goes (PrepaidEngine::force_supply, on the
// ingest thread, in its own transaction with its event), so the supply
// reconciler switches the meter and keeps it so instead of undoing it; then we
// wait for the reconciler's read-back in the store and report it.
#include "control/handlers.hpp"
#include "control/wait_for_future.hpp"
#include "core/outbox_format.hpp"
#include "platform/wall_clock.hpp"

namespace ecmgw::control {

namespace {

using nlohmann::json;

// A relay answers within a second or two; a motorised valve may travel for tens
// of seconds, and a failed attempt is retried at the reconciler's next turns.
constexpr std::chrono::seconds kRelayReadBack{20};
constexpr std::chrono::seconds kValveReadBack{60};
constexpr std::chrono::seconds kIngestLimit{30};
constexpr std::chrono::milliseconds kReadBackPoll{100};

prepaid::Force force_of(SwitchAction a) {
    switch (a) {
        case SwitchAction::On:
            return prepaid::Force::On;
        case SwitchAction::Off:
            return prepaid::Force::Off;
        case SwitchAction::Auto:
            break;
    }
    return prepaid::Force::None;
}

// The refusal in words, or nullopt when `r` fits the meter.
std::optional<std::string> unfit(const config::Config& cfg, const SwitchRequest& r) {
    const auto* m = cfg.find_meter(r.meter);
    if (m == nullptr) return "no meter " + r.meter + " in the gateway's config";
    const bool water = m->kind == config::MeterKind::Water;
    if (water != (r.what == Supply::Valve)) {
        return r.meter + " is " +
               (water ? "a water meter: use `ecmgw valve`"
                      : "an electricity meter: use `ecmgw relay`");
    }
    return std::nullopt;
}

// Applies the override on the ingest thread; the refusal, or "" when applied.
std::future<std::string> post_override(const DaemonView& d, const SwitchRequest& r,
                                       const std::string& who) {
    auto promise = std::make_shared<std::promise<std::string>>();
    auto future = promise->get_future();
    d.ingest.post([&core = d.prepaid, r, who, promise] {
        std::string refusal;
        auto applied = core.transact([&](store::Transaction& tx) -> Result {
            auto done = core.engine().force_supply(tx, r.meter, force_of(r.action), who,
                                                   platform::wall_ms());
            if (done) return {};
            refusal = done.error().reason;
            return fail(refusal);
        });
        promise->set_value(applied ? "" : (refusal.empty() ? applied.error().message : refusal));
    });
    return future;
}

// The supply row once the meter reads back its desired state after `since_ms`;
// the last row seen when `limit` passes first; nullopt when the client or the
// daemon went.
Expected<std::optional<store::SupplyRow>> await_read_back(Session& s, const std::string& meter,
                                                          std::int64_t since_ms,
                                                          std::chrono::milliseconds limit,
                                                          bool& confirmed) {
    auto tables = s.tables();
    if (!tables) return unexpected(tables.error());
    const auto until = std::chrono::steady_clock::now() + limit;
    confirmed = false;
    while (true) {
        auto row = (*tables)->supply(meter);
        if (!row) return unexpected(row.error());
        if (!*row) return row;  // no supply row: nothing the reconciler switches
        const auto& r = **row;
        if (r.observed_ms >= since_ms && r.observed == r.desired) {
            confirmed = true;
            return row;
        }
        if (std::chrono::steady_clock::now() >= until) return row;
        if (!s.connection().wait(kReadBackPoll)) return std::optional<store::SupplyRow>{};
    }
}

// Relay protection delays a switch that follows another too soon; say so, as the
// reconciler waits silently.
std::string protection_note(const prepaid::RelayProtection& relay, const store::SupplyRow& row) {
    const std::int64_t allowed_ms = row.last_switch_ms + relay.min_interval_s * 1000;
    if (row.last_switch_ms == 0 || allowed_ms <= platform::wall_ms()) return "";
    return "; relay protection ([prepaid] relay_min_interval_s = " +
           std::to_string(relay.min_interval_s) + ") allows the next switch at " +
           core::rfc3339_utc(allowed_ms);
}

}  // namespace

void handle_switch(Session& s, const SwitchRequest& r) {
    const auto& d = s.daemon();
    if (auto why = unfit(s.cfg(), r)) return s.error(*why, kExitUsage);
    const std::string who = s.connection().peer().who();
    const auto since_ms = platform::wall_ms();
    auto refusal = wait_for_future(s.connection(), post_override(d, r, who), kIngestLimit);
    if (!refusal) {
        if (!s.connection().closed())
            s.error("the gateway's core did not take the override in time", kExitUsage);
        return;
    }
    if (!refusal->empty()) return s.error(*refusal, kExitRefused);
    bool confirmed = false;
    auto row = await_read_back(
        s, r.meter, since_ms, r.what == Supply::Valve ? kValveReadBack : kRelayReadBack, confirmed);
    if (!row) return s.error(row.error().message, kExitUsage);
    if (s.connection().closed()) return;
    if (!*row) return s.error("meter " + r.meter + " has no supply state", kExitRefused);
    const auto& sup = **row;
    json result{{"meter", r.meter},
                {"command", to_string(r.what)},
                {"action", to_string(r.what, r.action)},
                {"by", who},
                {"force", sup.force},
                {"desired", sup.desired},
                {"reason", sup.reason},
                {"observed", sup.observed},
                {"confirmed", confirmed}};
    if (sup.observed_ms > 0) result["observed_at"] = core::rfc3339_utc(sup.observed_ms);
    if (confirmed) return s.ok(std::move(result));
    // Not an error of the request: the override stands and the reconciler keeps
    // trying; the client shows the state and exits non-zero.
    result["error"] = "the meter has not read back " + sup.desired +
                      " yet (last seen: " + sup.observed + ", " + std::to_string(sup.attempts) +
                      " attempt(s))" + protection_note(s.cfg().prepaid.relay, sup) +
                      "; the gateway keeps trying: watch `ecmgw events --follow`";
    s.ok(std::move(result));
}

}  // namespace ecmgw::control
