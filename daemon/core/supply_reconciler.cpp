#include "core/supply_reconciler.hpp"

#include <spdlog/spdlog.h>

namespace ecmgw::core {

namespace {

std::optional<prepaid::Supply> to_supply(std::optional<bus::SupplyState> s) {
    if (!s) return std::nullopt;
    switch (*s) {
        case bus::SupplyState::On:
            return prepaid::Supply::On;
        case bus::SupplyState::Off:
            return prepaid::Supply::Off;
        case bus::SupplyState::Unknown:
            break;
    }
    return std::nullopt;
}

}  // namespace

SupplyReconciler::SupplyReconciler(PrepaidEngine& engine, store::Store& store,
                                   SwitchFn switch_meter)
    : engine_(&engine), store_(store), switch_meter_(std::move(switch_meter)) {}

void SupplyReconciler::assert_all() {
    auto rows = engine_->tables().supplies();
    if (!rows) {
        spdlog::error("supply: {}", rows.error().message);
        return;
    }
    // A meter already being switched is being asserted.
    for (const auto& r : *rows)
        if (in_flight_.count(r.meter) == 0) to_assert_.insert(r.meter);
}

void SupplyReconciler::wake(const std::vector<std::string>& meters) {
    for (const auto& m : meters) {
        woken_.insert(m);
        to_assert_.insert(m);
        not_before_ms_.erase(m);
    }
}

bool SupplyReconciler::write(const char* what,
                             const std::function<Result(store::Transaction&)>& body) {
    auto tx = store_.begin();
    if (!tx) {
        spdlog::error("supply: {}: {}", what, tx.error().message);
        return false;
    }
    if (auto r = body(*tx); !r) {
        spdlog::error("supply: {}: {}", what, r.error().message);
        return false;
    }
    if (auto r = tx->commit(); !r) {
        spdlog::error("supply: {}: {}", what, r.error().message);
        return false;
    }
    return true;
}

void SupplyReconciler::collect(std::int64_t now_ms) {
    for (auto it = in_flight_.begin(); it != in_flight_.end();) {
        if (it->second.result.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
            ++it;
            continue;
        }
        const std::string meter = it->first;
        const bus::CommandResult result = it->second.result.get();
        it = in_flight_.erase(it);
        settled_at_[meter] = std::chrono::steady_clock::now();
        write("recording a switch", [&](store::Transaction& tx) {
            return engine_->observe_switch(tx, meter, result.ok, to_supply(result.state),
                                           result.error, now_ms);
        });
        // A state read back that differs from the desired one is tried again at
        // once (up to the attempt limit): the next turn sees the mismatch.
    }
}

void SupplyReconciler::observed(const SupplyObservation& observation, std::int64_t now_ms) {
    const std::string& meter = observation.meter;
    // The switch under way reads the state back itself.
    if (in_flight_.count(meter) != 0) return;
    if (auto settled = settled_at_.find(meter);
        settled != settled_at_.end() && observation.read_at < settled->second)
        return;
    prepaid::SupplyCheck check;
    const bool written = write("recording a supply check", [&](store::Transaction& tx) -> Result {
        auto judged = engine_->observe_supply(tx, meter, to_supply(observation.state), now_ms);
        if (!judged) return unexpected(judged.error());
        check = *judged;
        return {};
    });
    if (!written) return;  // the next check will tell again
    if (check.changed_outside) {
        spdlog::warn("supply: {} was switched outside the gateway: seen {}{}", meter,
                     bus::to_string(observation.state),
                     check.switch_back ? "; switching it back" : "");
    }
    if (!check.switch_back) return;
    wake({meter});
    start_due(now_ms);
}

void SupplyReconciler::start_due(std::int64_t now_ms) {
    auto rows = engine_->tables().supplies();
    if (!rows) {
        spdlog::error("supply: {}", rows.error().message);
        return;
    }
    woken_.clear();
    const auto& prepaid_cfg = engine_->config().prepaid;
    for (const auto& row : *rows) {
        const bool assert_once = to_assert_.count(row.meter) != 0;
        if (!assert_once && row.observed == row.desired) continue;
        if (in_flight_.count(row.meter) != 0) continue;
        if (auto nb = not_before_ms_.find(row.meter); nb != not_before_ms_.end()) {
            if (now_ms < nb->second) continue;
            not_before_ms_.erase(nb);
        }
        // Relay protection counts real changes: a re-assertion of the state the
        // meter was last seen in does not move the contact.
        const bool changes_state = row.observed != row.desired;
        if (changes_state && row.observed != "unknown") {
            const auto permission = prepaid::may_switch(
                prepaid_cfg.relay, {row.last_switch_ms, row.switch_day, row.switches_today},
                engine_->calendar(), now_ms);
            using V = prepaid::SwitchPermission::Verdict;
            if (permission.verdict == V::WaitUntil) {
                not_before_ms_[row.meter] = permission.wait_until_ms;
                continue;
            }
            if (permission.verdict == V::DailyLimitReached) {
                const int today = engine_->calendar().local(now_ms).date_key();
                if (reported_day_[row.meter] != today) {
                    reported_day_[row.meter] = today;
                    write("reporting the relay limit", [&](store::Transaction& tx) {
                        return engine_->report_stuck(
                            tx, row.meter,
                            "relay switched " + std::to_string(row.switches_today) +
                                " times today, the daily maximum; desired " + row.desired,
                            now_ms);
                    });
                }
                not_before_ms_[row.meter] = engine_->calendar().next_day_start_ms(now_ms);
                continue;
            }
        }
        if (row.attempts >= prepaid_cfg.switch_attempts && !assert_once) {
            write("reporting a stuck meter", [&](store::Transaction& tx) {
                return engine_->report_stuck(tx, row.meter,
                                             std::to_string(row.attempts) +
                                                 " attempts did not bring the meter to " +
                                                 row.desired + " (seen: " + row.observed + ")",
                                             now_ms);
            });
            // Keep trying, slowly: a meter back from a power cut should follow.
            not_before_ms_[row.meter] =
                now_ms + static_cast<std::int64_t>(prepaid_cfg.check_interval_s) * 10'000;
            write("resetting the attempt count", [&](store::Transaction&) -> Result {
                auto again = row;
                again.attempts = 0;
                return engine_->tables().put_supply(again);
            });
            continue;
        }
        auto started = switch_meter_(row.meter, row.desired == "on");
        to_assert_.erase(row.meter);
        if (!started) continue;  // not on any bus: nothing to switch
        spdlog::info("supply: switching {} {} ({})", row.meter, row.desired, row.reason);
        in_flight_.emplace(row.meter, InFlight{std::move(*started), row.desired == "on"});
    }
}

void SupplyReconciler::turn(std::int64_t now_ms) {
    collect(now_ms);
    start_due(now_ms);
}

}  // namespace ecmgw::core
