// `read METER`: a read-now on the meter's bus, queued before its scheduled reads;
// the poller stores the reading like any other and hands the values back here.
#include "control/handlers.hpp"
#include "control/wait_for_future.hpp"
#include "core/outbox_format.hpp"
#include "platform/wall_clock.hpp"

namespace ecmgw::control {

namespace {
// Retries of a silent meter take at most retries × timeout; far less than this.
constexpr std::chrono::seconds kReadLimit{60};
}  // namespace

void handle_read(Session& s, const ReadRequest& r) {
    const auto* meter = s.cfg().find_meter(r.meter);
    auto queued = meter != nullptr ? s.daemon().read_now(r.meter) : std::nullopt;
    if (!queued) return s.error("no meter " + r.meter + " in the gateway's config", kExitUsage);
    auto result = wait_for_future(s.connection(), std::move(*queued), kReadLimit);
    if (!result) {
        if (!s.connection().closed()) {
            s.error("ecmgw read " + r.meter + ": the bus gave no result within 60 s",
                    kExitNoAnswer);
        }
        return;
    }
    if (!result->ok) {
        return s.error("ecmgw read " + r.meter + ": " + result->error, kExitNoAnswer);
    }
    const auto now = platform::wall_ms();
    nlohmann::json values = nlohmann::json::object();
    // Text, not JSON numbers: a double would lose the meter's digits.
    for (const auto& sample : result->samples) values[sample.quantity] = sample.value.to_string();
    s.ok({{"meter", r.meter},
          {"bus", meter->bus},
          {"ts", core::rfc3339_utc(now)},
          {"values", std::move(values)}});
}

}  // namespace ecmgw::control
