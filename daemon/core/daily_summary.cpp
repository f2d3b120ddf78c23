#include "core/daily_summary.hpp"

#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "core/outbox_format.hpp"

namespace ecmgw::core {

namespace {

using nlohmann::json;

constexpr const char* kFromKey = "summaries_from_ms";  // start of the first day not summarised
// A summary written later than this after its day ended was not written at
// midnight: the gateway was down (or its clock jumped) across the day's end.
constexpr std::int64_t kLateAfterMs = 3'600'000;
// How long a day's summary waits for meters that have not been read since its end.
constexpr std::int64_t kWaitForMetersMs = 6 * 3'600'000;

std::string date_text(int key) {
    return fmt::format("{:04d}-{:02d}-{:02d}", key / 10000, key / 100 % 100, key % 100);
}

// Rounds a pico-yuan amount to the nearest fen (half up), for reporting only:
// what was debited is in the ledger.
std::int64_t fen_of(std::int64_t pico) {
    return (pico + prepaid::kPicoYuanPerFen / 2) / prepaid::kPicoYuanPerFen;
}

// The register the meter froze at `midnight_ms` itself (DL/T 645 daily freeze, stored by
// the bus with the freeze time as its time); nothing when it froze at another time or
// was not read.
Expected<std::optional<store::Reading>> frozen_at(store::Store& store, const std::string& meter,
                                                  const std::string& quantity,
                                                  std::int64_t midnight_ms) {
    auto r = store.reading_before(meter, quantity, midnight_ms + 1);
    if (!r) return unexpected(r.error());
    if (*r && (*r)->ts_ms == midnight_ms) return r;
    return std::optional<store::Reading>{};
}

// The quantity a meter's frozen billing register is stored under: frozen_import_energy_kwh
// for import_energy_kwh; no meter freezes volume_m3 or energy_kwh, so those find nothing.
std::string frozen_quantity(const ChargedMeter& cm) { return "frozen_" + cm.quantity; }

}  // namespace

Result write_daily_summaries(store::Transaction& tx, store::Store& store, PrepaidEngine& engine,
                             std::int64_t now_ms) {
    auto& tables = engine.tables();
    const auto& calendar = engine.calendar();
    auto from = tables.value(kFromKey);
    if (!from) return unexpected(from.error());
    if (!*from) return tables.set_value(kFromKey, calendar.next_day_start_ms(now_ms));

    std::int64_t day_start = **from;
    const auto& cfg = engine.config();
    while (true) {
        const std::int64_t day_end = calendar.next_day_start_ms(day_start);
        if (day_end > now_ms) break;
        // Wait until every charged meter was charged past the day's end (a restart
        // after a gap reads them within seconds), but not for ever for a dead one.
        if (now_ms - day_end < kWaitForMetersMs) {
            bool all_past = true;
            for (const auto& m : cfg.meters) {
                const ChargedMeter* cm = engine.charged(m.id);
                if (cm == nullptr) continue;
                auto rating = tables.meter_rating(m.id);
                if (!rating) return unexpected(rating.error());
                if (*rating && (*rating)->last_ts_ms < day_end) all_past = false;
                // A meter that froze the day's start will freeze its end: wait for that
                // read too (the bus asks for it once the midnight has passed).
                auto start = frozen_at(store, m.id, frozen_quantity(*cm), day_start);
                if (!start) return unexpected(start.error());
                if (!*start) continue;
                auto end = frozen_at(store, m.id, frozen_quantity(*cm), day_end);
                if (!end) return unexpected(end.error());
                if (!*end) all_past = false;
            }
            if (!all_past) break;
        }
        const int day = calendar.local(day_start).date_key();
        const bool gap = now_ms - day_end > kLateAfterMs;
        std::map<std::string, std::int64_t> account_cost;
        for (const auto& m : cfg.meters) {
            const ChargedMeter* cm = engine.charged(m.id);
            if (cm == nullptr) continue;
            auto usage = tables.daily_usage(m.id, day);
            if (!usage) return unexpected(usage.error());
            std::int64_t micro = 0, pico = 0;
            json periods = json::object();
            for (const auto& u : *usage) {
                micro += u.consumption_micro;
                pico += u.cost_pico;
                periods[u.period] = {{"consumption", Decimal{u.consumption_micro, 6}.to_string()},
                                     {"cost_fen", fen_of(u.cost_pico)}};
            }
            account_cost[m.account] += pico;
            auto frozen_end = frozen_at(store, m.id, frozen_quantity(*cm), day_end);
            if (!frozen_end) return unexpected(frozen_end.error());
            const bool frozen = frozen_end->has_value();
            auto closing =
                frozen ? std::move(frozen_end) : store.reading_before(m.id, cm->quantity, day_end);
            if (!closing) return unexpected(closing.error());
            json body = {{"scope", "meter"},
                         {"day", date_text(day)},
                         {"meter", m.id},
                         {"account", m.account},
                         {"utility", prepaid::utility_name(cm->tariff->utility)},
                         {"consumption", Decimal{micro, 6}.to_string()},
                         {"cost_fen", fen_of(pico)},
                         {"periods", std::move(periods)},
                         {"source", frozen ? "frozen" : "readings"},
                         {"gap", gap}};
            if (*closing) {
                body["closing_register"] = (*closing)->value.to_string();
                body["closing_ts"] = rfc3339_utc((*closing)->ts_ms);
            }
            if (frozen) {
                // The meter's own day, from freeze to freeze; what was charged (and so
                // the cost and the periods) stays beside it. A register that went back
                // (meter replaced) says nothing of the day: the charges stand alone.
                auto opening = frozen_at(store, m.id, frozen_quantity(*cm), day_start);
                if (!opening) return unexpected(opening.error());
                if (*opening) {
                    auto end_micro = prepaid::to_micro_units((*closing)->value);
                    auto start_micro = prepaid::to_micro_units((*opening)->value);
                    if (end_micro && start_micro && *end_micro >= *start_micro) {
                        body["consumption"] = Decimal{*end_micro - *start_micro, 6}.to_string();
                        body["charged_consumption"] = Decimal{micro, 6}.to_string();
                    }
                }
            }
            if (auto seq = tx.append_outbox(kKindSummary, body.dump(), now_ms); !seq)
                return unexpected(seq.error());
        }
        for (const auto& a : cfg.accounts) {
            auto row = tables.account(a.id);
            if (!row) return unexpected(row.error());
            if (!*row) continue;
            json body = {{"scope", "account"},
                         {"day", date_text(day)},
                         {"account", a.id},
                         {"consumption_cost_fen", fen_of(account_cost[a.id])},
                         {"gap", gap}};
            // The balance at the day's end is only known at midnight itself.
            if (!gap) body["closing_balance_fen"] = (*row)->balance_fen;
            if (auto seq = tx.append_outbox(kKindSummary, body.dump(), now_ms); !seq)
                return unexpected(seq.error());
        }
        day_start = day_end;
    }
    return tables.set_value(kFromKey, day_start);
}

}  // namespace ecmgw::core
