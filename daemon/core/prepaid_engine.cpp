#include "core/prepaid_engine.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <set>

#include "core/daily_summary.hpp"
#include "core/outbox_format.hpp"

namespace ecmgw::core {

namespace {

using nlohmann::json;
using prepaid::Supply;
__extension__ typedef __int128 Wide;

// Before this the gateway's clock is unset (a box without RTC battery boots in
// 1970 or at its build date): such times cannot date a charge.
constexpr std::int64_t kClockPlausibleFromMs = 1'704'067'200'000;  // 2024-01-01T00:00:00Z
constexpr std::int64_t kMsPerHour = 3'600'000;
// A reading closer than this to the previous one is too short an interval to
// judge a jump by; allow as if this much time had passed.
constexpr std::int64_t kMinJudgedIntervalMs = 60'000;

Unexpected<Error> store_failure(const Error& e) { return unexpected(e); }

std::string supply_word(Supply s) { return prepaid::supply_name(s); }

std::optional<Supply> parse_supply(const std::string& s) {
    if (s == "on") return Supply::On;
    if (s == "off") return Supply::Off;
    return std::nullopt;
}

prepaid::Force parse_force(const std::string& s) {
    if (s == "on") return prepaid::Force::On;
    if (s == "off") return prepaid::Force::Off;
    return prepaid::Force::None;
}

const char* force_word(prepaid::Force f) {
    switch (f) {
        case prepaid::Force::On:
            return "on";
        case prepaid::Force::Off:
            return "off";
        case prepaid::Force::None:
            break;
    }
    return "none";
}

// Registers count up to 10^k - 1 and wrap: a drop from near the top of such a
// range is a rollover rather than a replacement (both are quarantined; the event
// says which it probably was).
bool near_rollover(const Decimal& last) {
    std::int64_t whole = last.mantissa;
    for (int i = 0; i < last.scale; ++i) whole /= 10;
    std::int64_t top = 10;
    while (top <= whole) top *= 10;
    return whole >= top - top / 10 && top >= 1000;
}

// The ledger and charge texts below are written by hand, on the path of every
// charge, rather than built as json objects and dumped: the bytes are the same as
// json's dump (keys in its order, which sorts them; strings escaped as it does).

// `s` as a JSON string, exactly as json(s).dump() writes it.
void append_json_string(std::string& out, std::string_view s) {
    const bool plain = std::all_of(
        s.begin(), s.end(), [](char c) { return c >= 0x20 && c <= 0x7e && c != '"' && c != '\\'; });
    if (!plain) {
        out += json(std::string(s)).dump();
        return;
    }
    out += '"';
    out += s;
    out += '"';
}

void append_key(std::string& out, std::string_view key) {
    out += '"';
    out += key;  // our own keys: nothing to escape
    out += "\":";
}

// A ledger row's outbox record: {"account":…,"amount_fen":…,"balance_fen":…,"cause":…,
// "detail":{…},"id":…,"kind":…,"meter":…,"ts":…}; no detail when it is empty, no
// meter unless it has one. The detail is a JSON object text this engine wrote with
// json's dump, so it goes in as it is.
std::string ledger_text(const store::LedgerEntry& e) {
    std::string out;
    out.reserve(160 + e.detail.size());
    out += '{';
    append_key(out, "account");
    append_json_string(out, e.account);
    out += ',';
    append_key(out, "amount_fen");
    out += std::to_string(e.amount_fen);
    out += ',';
    append_key(out, "balance_fen");
    out += std::to_string(e.balance_after_fen);
    out += ',';
    append_key(out, "cause");
    append_json_string(out, e.idem_key);
    if (!e.detail.empty() && e.detail != "{}") {
        out += ',';
        append_key(out, "detail");
        if (e.detail.front() == '{') {
            out += e.detail;
        } else {  // not an object we wrote: as json would take it
            auto detail = json::parse(e.detail, nullptr, false);
            if (detail.is_discarded() || detail.empty()) {
                out.resize(out.size() - std::string_view(",\"detail\":").size());
            } else {
                out += detail.dump();
            }
        }
    }
    out += ',';
    append_key(out, "id");
    out += std::to_string(e.id);
    out += ',';
    append_key(out, "kind");
    append_json_string(out, e.kind);
    if (!e.meter.empty()) {
        out += ',';
        append_key(out, "meter");
        append_json_string(out, e.meter);
    }
    out += ',';
    append_key(out, "ts");
    append_json_string(out, rfc3339_utc(e.ts_ms));
    out += '}';
    return out;
}

// A charge's ledger detail: {"consumption":…,"end_register":…,"from":…,"lines":[{
// "consumption":…,"day":…,"period":…,"price":…,"tier":…},…],"split":…,
// "start_register":…,"tariff":…,"to":…}.
std::string charge_detail(const prepaid::Charge& charge, const std::string& tariff,
                          std::int64_t from_ms, std::int64_t to_ms, const Decimal& start,
                          const Decimal& end, std::string_view split) {
    std::string out;
    out.reserve(200 + 110 * charge.lines.size());
    out += '{';
    append_key(out, "consumption");
    append_json_string(out, Decimal{charge.consumption_micro, 6}.to_string());
    out += ',';
    append_key(out, "end_register");
    append_json_string(out, end.to_string());
    out += ',';
    append_key(out, "from");
    append_json_string(out, rfc3339_utc(from_ms));
    out += ',';
    append_key(out, "lines");
    out += '[';
    for (std::size_t i = 0; i < charge.lines.size(); ++i) {
        const auto& l = charge.lines[i];
        if (i > 0) out += ',';
        out += '{';
        append_key(out, "consumption");
        append_json_string(out, Decimal{l.consumption_micro, 6}.to_string());
        out += ',';
        append_key(out, "day");
        out += std::to_string(l.date_key);
        out += ',';
        append_key(out, "period");
        append_json_string(out, prepaid::period_name(l.period));
        out += ',';
        append_key(out, "price");
        append_json_string(out, l.price.to_string());
        out += ',';
        append_key(out, "tier");
        out += std::to_string(l.tier + 1);
        out += '}';
    }
    out += ']';
    out += ',';
    append_key(out, "split");
    append_json_string(out, split);
    out += ',';
    append_key(out, "start_register");
    append_json_string(out, start.to_string());
    out += ',';
    append_key(out, "tariff");
    append_json_string(out, tariff);
    out += ',';
    append_key(out, "to");
    append_json_string(out, rfc3339_utc(to_ms));
    out += '}';
    return out;
}

using PeriodMicro = std::array<std::int64_t, prepaid::kPeriodCount>;

// The sharp, peak, flat and valley registers in micro-units, as the store keeps
// them ("s,p,f,v"); "" unless all four were read and are usable.
std::string periods_text(const PeriodRegisters* periods) {
    if (periods == nullptr) return {};
    std::string out;
    for (const auto& p : *periods) {
        if (!p) return {};
        auto micro = prepaid::to_micro_units(*p);
        if (!micro) return {};
        if (!out.empty()) out += ',';
        out += std::to_string(*micro);
    }
    return out;
}

std::optional<PeriodMicro> parse_periods(std::string_view text) {
    PeriodMicro out{};
    const char* p = text.data();
    const char* const end = text.data() + text.size();
    for (std::size_t i = 0; i < out.size(); ++i) {
        if (i > 0) {
            if (p == end || *p != ',') return std::nullopt;
            ++p;
        }
        const auto [next, ec] = std::from_chars(p, end, out[i]);
        if (ec != std::errc()) return std::nullopt;
        p = next;
    }
    if (p != end) return std::nullopt;
    return out;
}

// The micro-unit movement of each period register, when it is believable: every
// register moved forward and together they moved what the total register moved,
// give or take one step of each register's last digit.
std::optional<PeriodMicro> period_movement(const std::string& before, const std::string& after,
                                           std::int64_t total_micro, std::int64_t step_micro) {
    const auto a = parse_periods(before);
    const auto b = parse_periods(after);
    if (!a || !b) return std::nullopt;
    PeriodMicro moved{};
    std::int64_t sum = 0;
    for (std::size_t i = 0; i < prepaid::kPeriodCount; ++i) {
        moved[i] = (*b)[i] - (*a)[i];
        if (moved[i] < 0) return std::nullopt;
        sum += moved[i];
    }
    const std::int64_t slack = step_micro * static_cast<std::int64_t>(prepaid::kPeriodCount);
    if (sum < total_micro - slack || sum > total_micro + slack) return std::nullopt;
    return moved;
}

}  // namespace

std::array<std::string, prepaid::kPeriodCount> period_quantities(const std::string& billing) {
    const std::string suffix = "_kwh";
    if (billing.size() <= suffix.size() ||
        billing.compare(billing.size() - suffix.size(), suffix.size(), suffix) != 0)
        return {};
    const std::string stem = billing.substr(0, billing.size() - suffix.size());
    return {stem + "_t1_kwh", stem + "_t2_kwh", stem + "_t3_kwh", stem + "_t4_kwh"};
}

std::string billing_quantity(const config::Config& cfg, const config::MeterConfig& meter) {
    if (meter.kind == config::MeterKind::Water) return "volume_m3";
    std::vector<std::string> reads = meter.quantities;
    if (reads.empty()) {
        if (const auto* profile = cfg.profile_of(meter)) {
            for (const auto& p : profile->points) reads.push_back(p.quantity);
        } else if (meter.protocol == config::Protocol::Dlt645_2007) {
            reads = {"energy_kwh", "import_energy_kwh"};
        } else if (meter.protocol == config::Protocol::Dlt645_1997) {
            reads = {"import_energy_kwh"};
        }
    }
    const bool has_import =
        std::find(reads.begin(), reads.end(), "import_energy_kwh") != reads.end();
    return has_import ? "import_energy_kwh" : "energy_kwh";
}

PrepaidEngine::PrepaidEngine(const config::Config& cfg, const prepaid::Calendar& calendar,
                             store::Store& store, store::PrepaidTables& tables)
    : cfg_(cfg), calendar_(calendar), store_(store), tables_(tables) {
    for (const auto& m : cfg.meters) {
        if (m.relay) switchable_.insert(m.id);
        if (m.account.empty()) continue;
        ChargedMeter cm;
        cm.meter = &m;
        cm.account = cfg.find_account(m.account);
        cm.tariff = cfg.tariff_of(m);
        cm.quantity = billing_quantity(cfg, m);
        if (auto max = prepaid::to_micro_units(m.max_rate_per_hour)) cm.max_micro_per_hour = *max;
        if (cm.account == nullptr || cm.tariff == nullptr) continue;  // config refuses this
        charged_.emplace(m.id, cm);
        if (m.relay) meters_of_account_[m.account].push_back(m.id);
    }
}

const ChargedMeter* PrepaidEngine::charged(const std::string& meter) const {
    auto it = charged_.find(meter);
    return it == charged_.end() ? nullptr : &it->second;
}

bool PrepaidEngine::switchable(const std::string& meter) const {
    return switchable_.count(meter) != 0;
}

const config::AccountConfig* PrepaidEngine::account_config(const std::string& id) const {
    // On the path of every charge: through a switchable meter of the account (two
    // map look-ups) rather than along the list of every configured account.
    if (auto it = meters_of_account_.find(id); it != meters_of_account_.end()) {
        for (const auto& meter : it->second) {
            const ChargedMeter* cm = charged(meter);
            if (cm != nullptr && cm->account != nullptr && cm->account->id == id)
                return cm->account;
        }
    }
    return cfg_.find_account(id);
}

std::vector<std::string> PrepaidEngine::take_changed_supply() {
    std::vector<std::string> out(changed_supply_.begin(), changed_supply_.end());
    changed_supply_.clear();
    return out;
}

Result PrepaidEngine::event(store::Transaction& tx, const std::string& type,
                            const std::string& meter, const std::string& account, json details,
                            std::int64_t ts_ms) {
    const std::string text = event_body(type, ts_ms, {"", meter, account}, details);
    auto id = tables_.append_event({0, ts_ms, type, meter, account, text});
    if (!id) return store_failure(id.error());
    if (auto seq = tx.append_outbox(kKindEvent, text, ts_ms); !seq)
        return store_failure(seq.error());
    spdlog::info("event {}{}{}: {}", type, meter.empty() ? "" : " meter=" + meter,
                 account.empty() ? "" : " account=" + account, text);
    return {};
}

Result PrepaidEngine::clock_jumped(store::Transaction& tx, const ClockJump& jump) {
    constexpr std::size_t kJumpsKept = 8;
    if (jumps_.size() == kJumpsKept) jumps_.erase(jumps_.begin());
    jumps_.push_back(jump);
    spdlog::warn(
        "the gateway clock jumped by {} s (from about {} to {}); readings across it "
        "are not charged",
        jump.by_ms / 1000, rfc3339_utc(jump.before_ms), rfc3339_utc(jump.after_ms));
    return event(tx, "gateway_clock_jumped", "", "",
                 {{"by_ms", jump.by_ms},
                  {"before", rfc3339_utc(jump.before_ms)},
                  {"after", rfc3339_utc(jump.after_ms)}},
                 jump.after_ms);
}

Expected<std::optional<store::LedgerEntry>> PrepaidEngine::post(store::Transaction& tx,
                                                                store::LedgerEntry entry) {
    auto stored = tables_.append_ledger(entry);
    if (!stored) return unexpected(stored.error());
    if (!*stored) return std::optional<store::LedgerEntry>{};
    if (auto seq = tx.append_outbox(kKindLedger, ledger_text(**stored), entry.ts_ms); !seq)
        return unexpected(seq.error());
    return stored;
}

// ------------------------------------------------------------------ start-up

Result PrepaidEngine::start(store::Transaction& tx, std::int64_t now_ms) {
    for (const auto& a : cfg_.accounts) {
        auto created = tables_.ensure_account(a.id, now_ms);
        if (!created) return store_failure(created.error());
        if (*created) {
            if (auto r = event(tx, "account_created", "", a.id,
                               {{"opening_balance_fen", a.opening_balance_fen}}, now_ms);
                !r)
                return r;
        }
        if (a.opening_balance_fen > 0) {
            store::LedgerEntry e;
            e.account = a.id;
            e.ts_ms = now_ms;
            e.kind = "opening";
            e.amount_fen = a.opening_balance_fen;
            e.idem_key = "opening:" + a.id;
            e.detail = json{{"source", "config"}}.dump();
            auto posted = post(tx, e);
            if (!posted) return store_failure(posted.error());
        }
    }
    // Standing charges start from the first start-up with a set clock, never backdated.
    auto through = tables_.value("fixed_charges_through_ms");
    if (!through) return store_failure(through.error());
    if (!*through && now_ms >= kClockPlausibleFromMs) {
        if (auto r = tables_.set_value("fixed_charges_through_ms", now_ms); !r) return r;
    }
    for (const auto& m : cfg_.meters) {
        if (!m.relay) continue;
        const std::string account = charged(m.id) ? m.account : std::string();
        std::optional<store::AccountRow> row;
        if (!account.empty()) {
            auto a = tables_.account(account);
            if (!a) return store_failure(a.error());
            row = *a;
        }
        if (auto r = decide_meter(tx, m.id, row ? &*row : nullptr, now_ms); !r) return r;
    }
    return {};
}

// ------------------------------------------------------------------ readings

Result PrepaidEngine::quarantine(store::Transaction& tx, const ChargedMeter& cm,
                                 const store::Reading& r, const std::string& reason, json details) {
    details["reason"] = reason;
    details["quantity"] = r.quantity;
    details["value"] = r.value.to_string();
    details["reading_ts"] = rfc3339_utc(r.ts_ms);
    return event(tx, "reading_quarantined", cm.meter->id, cm.meter->account, std::move(details),
                 r.ts_ms);
}

Result PrepaidEngine::on_reading(store::Transaction& tx, const store::Reading& reading,
                                 const PeriodRegisters* periods) {
    const ChargedMeter* cm = charged(reading.meter);
    if (cm == nullptr || reading.quantity != cm->quantity) return {};
    auto loaded = tables_.meter_rating(reading.meter);
    if (!loaded) return store_failure(loaded.error());

    if (reading.ts_ms < kClockPlausibleFromMs)
        return quarantine(tx, *cm, reading, "gateway_clock_unset", {});
    auto micro = prepaid::to_micro_units(reading.value);
    if (!micro || *micro < 0)
        return quarantine(tx, *cm, reading, "unusable_value",
                          {{"error", micro ? "negative register" : micro.error().message}});

    if (!*loaded) {
        // The first reading is where charging starts from.
        store::MeterRatingRow row;
        row.meter = reading.meter;
        row.account = cm->meter->account;
        row.last_register = reading.value;
        row.last_ts_ms = reading.ts_ms;
        row.last_periods = periods_text(periods);
        if (auto r = tables_.put_meter_rating(row); !r) return r;
        return event(tx, "charging_started", reading.meter, row.account,
                     {{"register", reading.value.to_string()}, {"quantity", reading.quantity}},
                     reading.ts_ms);
    }
    store::MeterRatingRow row = std::move(**loaded);
    if (reading.ts_ms == row.last_ts_ms) return {};  // the same reading again
    if (row.account != cm->meter->account) {
        // The meter was moved to another account in the config: from now on its
        // consumption is charged there.
        if (auto r = event(tx, "meter_account_changed", reading.meter, cm->meter->account,
                           {{"previous_account", row.account}}, reading.ts_ms);
            !r)
            return r;
        row.account = cm->meter->account;
    }
    if (reading.ts_ms < row.last_ts_ms) {
        return quarantine(tx, *cm, reading, "gateway_clock_went_back",
                          {{"last_charged_ts", rfc3339_utc(row.last_ts_ms)}});
    }

    for (const ClockJump& jump : jumps_) {
        if (row.last_ts_ms > jump.before_ms || reading.ts_ms <= jump.before_ms) continue;
        // Two clocks stamped this interval: its length, and so its time-of-use split
        // and plausibility, are unknown. Charging resumes from this reading.
        const Decimal last = row.last_register;
        const std::int64_t last_ts = row.last_ts_ms;
        row.last_register = reading.value;
        row.last_ts_ms = reading.ts_ms;
        row.last_periods = periods_text(periods);
        row.suspect_register.reset();
        row.suspect_ts_ms = 0;
        if (auto r = tables_.put_meter_rating(row); !r) return r;
        return quarantine(tx, *cm, reading, "gateway_clock_jumped",
                          {{"last_charged_register", last.to_string()},
                           {"last_charged_ts", rfc3339_utc(last_ts)},
                           {"jump_ms", jump.by_ms}});
    }

    // Is `reading` a believable continuation of (register, ts)?
    auto plausible = [&](const Decimal& from, std::int64_t from_ms) -> std::optional<std::string> {
        auto from_micro = prepaid::to_micro_units(from);
        if (!from_micro) return "unusable previous register";
        const std::int64_t start = *from_micro;
        const std::int64_t delta = *micro - start;
        if (delta < 0) return near_rollover(from) ? "register_rollover" : "register_went_back";
        const std::int64_t elapsed = std::max(reading.ts_ms - from_ms, kMinJudgedIntervalMs);
        // The meter's maximum rate over the interval, plus one step of its last digit.
        std::int64_t step = 1;
        for (int i = reading.value.scale; i < 6; ++i) step *= 10;
        const Wide allowed =
            static_cast<Wide>(cm->max_micro_per_hour) * elapsed / kMsPerHour + step;
        if (static_cast<Wide>(delta) > allowed) return "impossible_jump";
        return std::nullopt;
    };

    const auto from_last = plausible(row.last_register, row.last_ts_ms);
    if (!from_last) {
        row.suspect_register.reset();
        row.suspect_ts_ms = 0;
        return charge_interval(tx, *cm, row, row.last_register, row.last_ts_ms, reading, periods);
    }
    if (row.suspect_register && reading.ts_ms > row.suspect_ts_ms &&
        !plausible(*row.suspect_register, row.suspect_ts_ms)) {
        // Two readings agree with each other but not with the past: the meter was
        // replaced, reset or rolled over. Charge from the first of them; what
        // happened across the break is not charged.
        const Decimal from = *row.suspect_register;
        const std::int64_t from_ms = row.suspect_ts_ms;
        if (auto r = event(tx, "meter_rebased", reading.meter, row.account,
                           {{"previous_register", row.last_register.to_string()},
                            {"previous_ts", rfc3339_utc(row.last_ts_ms)},
                            {"new_register", from.to_string()},
                            {"new_ts", rfc3339_utc(from_ms)}},
                           reading.ts_ms);
            !r)
            return r;
        row.suspect_register.reset();
        row.suspect_ts_ms = 0;
        row.last_periods.clear();  // the old meter's registers say nothing of the new one
        return charge_interval(tx, *cm, row, from, from_ms, reading, nullptr);
    }
    row.suspect_register = reading.value;
    row.suspect_ts_ms = reading.ts_ms;
    if (auto r = tables_.put_meter_rating(row); !r) return r;
    return quarantine(tx, *cm, reading, *from_last,
                      {{"last_charged_register", row.last_register.to_string()},
                       {"last_charged_ts", rfc3339_utc(row.last_ts_ms)}});
}

Result PrepaidEngine::charge_interval(store::Transaction& tx, const ChargedMeter& cm,
                                      store::MeterRatingRow& row, const Decimal& from_register,
                                      std::int64_t from_ms, const store::Reading& reading,
                                      const PeriodRegisters* periods) {
    // `from_register` may be row.last_register itself, which moves on below.
    const Decimal start_register = from_register;
    prepaid::RatingState state{row.remainder_pico, row.cycle_key, row.cycle_consumed_micro};
    prepaid::Interval interval{from_register, reading.value, from_ms, reading.ts_ms, std::nullopt};
    const std::string now_periods = periods_text(periods);
    if (from_ms == row.last_ts_ms) {
        auto total = prepaid::to_micro_units(reading.value);
        auto start = prepaid::to_micro_units(from_register);
        std::int64_t step = 1;
        for (int i = reading.value.scale; i < 6; ++i) step *= 10;
        if (total && start)
            interval.period_micro =
                period_movement(row.last_periods, now_periods, *total - *start, step);
    }
    auto charge = prepaid::rate(*cm.tariff, calendar_, interval, state);
    if (!charge) {
        // Not the reading's fault but ours (a tariff we cannot apply): keep the
        // reading, charge nothing, say so; the next reading retries from here.
        if (auto r = tables_.put_meter_rating(row); !r) return r;
        return event(tx, "rating_failed", cm.meter->id, cm.meter->account,
                     {{"error", charge.error().message}, {"tariff", cm.tariff->id}}, reading.ts_ms);
    }
    // Per-day usage for the daily summaries.
    std::map<std::pair<int, std::string>, std::pair<std::int64_t, std::int64_t>> usage;
    for (const auto& l : charge->lines) {
        auto& u = usage[{l.date_key, prepaid::period_name(l.period)}];
        u.first += l.consumption_micro;
        u.second += l.amount_pico_yuan;
    }
    for (const auto& [key, sums] : usage) {
        if (auto r = tables_.add_daily_usage(
                {cm.meter->id, key.first, key.second, sums.first, sums.second});
            !r)
            return r;
    }
    row.last_register = reading.value;
    row.last_ts_ms = reading.ts_ms;
    row.last_periods = now_periods;
    row.remainder_pico = state.remainder_pico_yuan;
    row.cycle_key = state.cycle_key;
    row.cycle_consumed_micro = state.cycle_consumed_micro;
    if (auto r = tables_.put_meter_rating(row); !r) return r;
    if (charge->fen == 0) return {};

    store::LedgerEntry e;
    e.account = row.account;
    e.ts_ms = reading.ts_ms;
    e.kind = "charge";
    e.amount_fen = -charge->fen;
    e.idem_key = "charge:" + cm.meter->id + ":" + std::to_string(from_ms);
    e.meter = cm.meter->id;
    e.detail = charge_detail(*charge, cm.tariff->id, from_ms, reading.ts_ms, start_register,
                             reading.value, interval.period_micro ? "meter_registers" : "time");
    auto posted = post(tx, e);
    if (!posted) return store_failure(posted.error());
    if (!*posted) return {};  // charged before: the UNIQUE cause kept it from happening twice
    return balance_changed(tx, row.account, (*posted)->balance_after_fen - e.amount_fen,
                           (*posted)->balance_after_fen, reading.ts_ms);
}

// ------------------------------------------------------------------ balance and supply

Result PrepaidEngine::balance_changed(store::Transaction& tx, const std::string& account,
                                      std::int64_t before_fen, std::int64_t after_fen,
                                      std::int64_t ts_ms) {
    const auto* acfg = account_config(account);
    auto row = tables_.account(account);
    if (!row) return store_failure(row.error());
    if (!*row) return fail("prepaid: account " + account + " vanished");
    store::AccountRow a = **row;
    const prepaid::CreditPolicy policy = acfg ? acfg->credit : prepaid::CreditPolicy{};
    for (const auto& c : prepaid::warning_crossings(policy, before_fen, after_fen)) {
        if (auto r = event(tx, c.downward ? "low_balance" : "balance_recovered", "", account,
                           {{"threshold_fen", c.threshold_fen}, {"balance_fen", after_fen}}, ts_ms);
            !r)
            return r;
    }
    const std::int64_t avail_before =
        prepaid::available_fen(policy, before_fen, a.emergency_active);
    const std::int64_t avail_after = prepaid::available_fen(policy, after_fen, a.emergency_active);
    if (avail_before > 0 && avail_after <= 0) {
        if (auto r = event(tx, "credit_exhausted", "", account,
                           {{"balance_fen", after_fen}, {"available_fen", avail_after}}, ts_ms);
            !r)
            return r;
    }
    bool emergency = a.emergency_active;
    if (emergency && after_fen >= 0) {
        emergency = false;  // paid back: emergency credit is spent and ends
        if (auto r = event(tx, "emergency_credit_ended", "", account, {{"balance_fen", after_fen}},
                           ts_ms);
            !r)
            return r;
    }
    // Unchanged flags need no write (most charges change neither).
    const int level = prepaid::warning_level(policy, after_fen);
    if (emergency != a.emergency_active || level != a.warn_level) {
        if (auto r = tables_.set_account_flags(account, emergency, a.keep_power, level); !r)
            return r;
        a.emergency_active = emergency;
        a.warn_level = level;
    }
    // decide_account, with the row as it now stands rather than read again.
    auto meters = meters_of_account_.find(account);
    if (meters == meters_of_account_.end()) return {};
    for (const auto& meter : meters->second) {
        if (auto r = decide_meter(tx, meter, &a, ts_ms); !r) return r;
    }
    return {};
}

Result PrepaidEngine::decide_account(store::Transaction& tx, const std::string& account,
                                     std::int64_t now_ms) {
    auto it = meters_of_account_.find(account);
    if (it == meters_of_account_.end()) return {};
    auto row = tables_.account(account);
    if (!row) return store_failure(row.error());
    if (!*row) return {};
    for (const auto& meter : it->second) {
        if (auto r = decide_meter(tx, meter, &**row, now_ms); !r) return r;
    }
    return {};
}

Result PrepaidEngine::decide_meter(store::Transaction& tx, const std::string& meter,
                                   const store::AccountRow* account, std::int64_t now_ms) {
    auto loaded = tables_.supply(meter);
    if (!loaded) return store_failure(loaded.error());
    store::SupplyRow row;
    const bool is_new = !*loaded;
    if (is_new) {
        row.meter = meter;
        row.desired = "on";
        row.reason = "new";
    } else {
        row = **loaded;
    }
    prepaid::SupplyInputs in;
    in.force = parse_force(row.force);
    in.current = parse_supply(row.desired).value_or(Supply::On);
    prepaid::CreditPolicy policy;
    if (account != nullptr) {
        const auto* acfg = account_config(account->id);
        if (acfg) policy = acfg->credit;
        in.balance_fen = account->balance_fen;
        in.emergency_active = account->emergency_active;
        in.keep_power = account->keep_power.value_or(acfg && acfg->keep_power);
        in.friendly_now = prepaid::in_friendly_period(cfg_.prepaid.friendly, calendar_, now_ms);
    } else {
        // Not charged: only a forced state cuts it.
        in.keep_power = true;
    }
    auto decision = prepaid::decide_supply(policy, in);
    if (account == nullptr && decision.reason == "keep_power") decision.reason = "not_prepaid";
    const std::string desired = supply_word(decision.desired);
    if (!is_new && desired == row.desired && decision.reason == row.reason) return {};

    const bool turned = is_new || desired != row.desired;
    const std::string previous_reason = row.reason;
    row.desired = desired;
    row.reason = decision.reason;
    if (turned) {
        row.desired_ms = now_ms;
        row.attempts = 0;
        changed_supply_.insert(meter);
    }
    if (auto r = tables_.put_supply(row); !r) return r;
    const std::string account_id = account ? account->id : std::string();
    json details = {{"desired", desired}, {"reason", decision.reason}};
    if (account) details["balance_fen"] = account->balance_fen;
    if (is_new) return {};
    if (turned)
        return event(tx, desired == "off" ? "supply_cut_ordered" : "supply_restore_ordered", meter,
                     account_id, std::move(details), now_ms);
    if (decision.reason == "friendly_period")
        return event(tx, "cut_deferred", meter, account_id, std::move(details), now_ms);
    (void)previous_reason;
    return {};
}

// ------------------------------------------------------------------ time

Result PrepaidEngine::fixed_charges(store::Transaction& tx, std::int64_t now_ms) {
    auto through = tables_.value("fixed_charges_through_ms");
    if (!through) return store_failure(through.error());
    if (!*through) return tables_.set_value("fixed_charges_through_ms", now_ms);
    const std::int64_t after = **through;
    if (now_ms <= after) return {};
    for (const auto& a : cfg_.accounts) {
        // The account's tariffs and those its meters use instead.
        std::set<std::string> tariffs(a.tariffs.begin(), a.tariffs.end());
        for (const auto& [id, cm] : charged_) {
            (void)id;
            if (cm.meter->account == a.id) tariffs.insert(cm.tariff->id);
        }
        for (const auto& tariff_id : tariffs) {
            const auto* tariff = cfg_.find_tariff(tariff_id);
            if (tariff == nullptr) continue;
            for (const auto& due : prepaid::fixed_charges_due(*tariff, calendar_, after, now_ms)) {
                const bool daily = due.kind == prepaid::FixedCharge::Kind::Daily;
                store::LedgerEntry e;
                e.account = a.id;
                e.ts_ms = now_ms;
                e.kind = "fixed_charge";
                e.amount_fen = -due.fen;
                e.idem_key = std::string("fixed:") + (daily ? "daily:" : "monthly:") + a.id + ":" +
                             tariff->id + ":" + std::to_string(due.date_key);
                e.detail = json{{"tariff", tariff->id},
                                {"period", daily ? "day" : "month"},
                                {"date", due.date_key}}
                               .dump();
                auto posted = post(tx, e);
                if (!posted) return store_failure(posted.error());
                if (!*posted) continue;
                if (auto r = balance_changed(tx, a.id, (*posted)->balance_after_fen + due.fen,
                                             (*posted)->balance_after_fen, now_ms);
                    !r)
                    return r;
            }
        }
    }
    return tables_.set_value("fixed_charges_through_ms", now_ms);
}

Result PrepaidEngine::tick(store::Transaction& tx, std::int64_t now_ms) {
    // An unset clock would date standing charges and summaries in 1970, and a
    // later correct one would then charge every day since.
    if (now_ms >= kClockPlausibleFromMs) {
        if (auto r = fixed_charges(tx, now_ms); !r) return r;
        if (auto r = write_daily_summaries(tx, store_, *this, now_ms); !r) return r;
    }
    for (const auto& [account, meters] : meters_of_account_) {
        (void)meters;
        if (auto r = decide_account(tx, account, now_ms); !r) return r;
    }
    return {};
}

// ------------------------------------------------------------------ commands

Expected<store::LedgerEntry, Refusal> PrepaidEngine::credit(
    store::Transaction& tx, const std::string& account, const std::string& kind,
    std::int64_t amount_fen, const std::string& idem_key, json detail, std::int64_t now_ms) {
    auto row = tables_.account(account);
    if (!row) return unexpected(Refusal{"store: " + row.error().message});
    if (!*row) return unexpected(Refusal{"unknown account " + account});
    store::LedgerEntry e;
    e.account = account;
    e.ts_ms = now_ms;
    e.kind = kind;
    e.amount_fen = amount_fen;
    e.idem_key = idem_key;
    e.detail = detail.dump();
    auto posted = post(tx, e);
    if (!posted) return unexpected(Refusal{"store: " + posted.error().message});
    if (!*posted) return unexpected(Refusal{"duplicate: " + idem_key + " was applied before"});
    if (auto r = balance_changed(tx, account, (*posted)->balance_after_fen - amount_fen,
                                 (*posted)->balance_after_fen, now_ms);
        !r)
        return unexpected(Refusal{"store: " + r.error().message});
    return **posted;
}

Expected<store::LedgerEntry, Refusal> PrepaidEngine::topup(store::Transaction& tx,
                                                           const std::string& account,
                                                           std::int64_t amount_fen,
                                                           const std::string& txn,
                                                           std::int64_t now_ms) {
    if (amount_fen <= 0) return unexpected(Refusal{"top-up amount must be positive"});
    return credit(tx, account, "topup", amount_fen, "topup:" + txn, {{"txn", txn}}, now_ms);
}

Expected<store::LedgerEntry, Refusal> PrepaidEngine::refund(store::Transaction& tx,
                                                            const std::string& account,
                                                            std::int64_t amount_fen,
                                                            const std::string& txn,
                                                            std::int64_t now_ms) {
    if (amount_fen <= 0) return unexpected(Refusal{"refund amount must be positive"});
    return credit(tx, account, "refund", -amount_fen, "refund:" + txn, {{"txn", txn}}, now_ms);
}

Expected<store::LedgerEntry, Refusal> PrepaidEngine::adjust(
    store::Transaction& tx, const std::string& account, std::int64_t amount_fen,
    const std::string& reason, const std::string& command_id, std::int64_t now_ms) {
    if (amount_fen == 0) return unexpected(Refusal{"adjustment amount must not be zero"});
    return credit(tx, account, "adjustment", amount_fen, "adjust:" + command_id,
                  {{"reason", reason}, {"command", command_id}}, now_ms);
}

Expected<void, Refusal> PrepaidEngine::set_keep_power(store::Transaction& tx,
                                                      const std::string& account,
                                                      std::optional<bool> on, std::int64_t now_ms) {
    auto row = tables_.account(account);
    if (!row) return unexpected(Refusal{"store: " + row.error().message});
    if (!*row) return unexpected(Refusal{"unknown account " + account});
    if (auto r =
            tables_.set_account_flags(account, (*row)->emergency_active, on, (*row)->warn_level);
        !r)
        return unexpected(Refusal{"store: " + r.error().message});
    const auto* acfg = account_config(account);
    const bool effective = on.value_or(acfg != nullptr && acfg->keep_power);
    if (auto r = event(tx, effective ? "keep_power_on" : "keep_power_off", "", account,
                       {{"as_configured", !on.has_value()}}, now_ms);
        !r)
        return unexpected(Refusal{"store: " + r.error().message});
    if (auto r = decide_account(tx, account, now_ms); !r)
        return unexpected(Refusal{"store: " + r.error().message});
    return {};
}

Expected<void, Refusal> PrepaidEngine::grant_emergency_credit(store::Transaction& tx,
                                                              const std::string& account,
                                                              std::int64_t now_ms) {
    const auto* acfg = account_config(account);
    auto row = tables_.account(account);
    if (!row) return unexpected(Refusal{"store: " + row.error().message});
    if (!*row || acfg == nullptr) return unexpected(Refusal{"unknown account " + account});
    if (acfg->credit.emergency_credit_fen <= 0)
        return unexpected(Refusal{"account " + account + " has no emergency credit configured"});
    if ((*row)->emergency_active)
        return unexpected(Refusal{"emergency credit is already active for " + account});
    if ((*row)->balance_fen >= 0)
        return unexpected(Refusal{"emergency credit is for an exhausted account; " + account +
                                  " has " + std::to_string((*row)->balance_fen) + " fen"});
    if (auto r = tables_.set_account_flags(account, true, (*row)->keep_power, (*row)->warn_level);
        !r)
        return unexpected(Refusal{"store: " + r.error().message});
    if (auto r = event(tx, "emergency_credit_granted", "", account,
                       {{"emergency_credit_fen", acfg->credit.emergency_credit_fen},
                        {"balance_fen", (*row)->balance_fen}},
                       now_ms);
        !r)
        return unexpected(Refusal{"store: " + r.error().message});
    if (auto r = decide_account(tx, account, now_ms); !r)
        return unexpected(Refusal{"store: " + r.error().message});
    return {};
}

Expected<void, Refusal> PrepaidEngine::force_supply(store::Transaction& tx,
                                                    const std::string& meter, prepaid::Force force,
                                                    const std::string& who, std::int64_t now_ms) {
    if (!switchable(meter))
        return unexpected(Refusal{cfg_.find_meter(meter) ? "meter " + meter +
                                                               " has no relay or valve the "
                                                               "gateway may switch (relay = false)"
                                                         : "unknown meter " + meter});
    auto loaded = tables_.supply(meter);
    if (!loaded) return unexpected(Refusal{"store: " + loaded.error().message});
    store::SupplyRow row;
    if (*loaded) {
        row = **loaded;
    } else {
        row.meter = meter;
        row.reason = "new";
        row.desired_ms = now_ms;
    }
    row.force = force_word(force);
    if (auto r = tables_.put_supply(row); !r)
        return unexpected(Refusal{"store: " + r.error().message});
    const ChargedMeter* cm = charged(meter);
    if (auto r = event(tx, "supply_forced", meter, cm ? cm->meter->account : "",
                       {{"force", force_word(force)}, {"by", who}}, now_ms);
        !r)
        return unexpected(Refusal{"store: " + r.error().message});
    std::optional<store::AccountRow> account;
    if (cm) {
        auto a = tables_.account(cm->meter->account);
        if (!a) return unexpected(Refusal{"store: " + a.error().message});
        account = *a;
    }
    if (auto r = decide_meter(tx, meter, account ? &*account : nullptr, now_ms); !r)
        return unexpected(Refusal{"store: " + r.error().message});
    // A repeated force must still reach the meter (someone may have switched it by hand).
    changed_supply_.insert(meter);
    return {};
}

// ------------------------------------------------------------------ reconciliation results

Result PrepaidEngine::observe_switch(store::Transaction& tx, const std::string& meter, bool ok,
                                     std::optional<prepaid::Supply> observed,
                                     const std::string& error, std::int64_t now_ms) {
    auto loaded = tables_.supply(meter);
    if (!loaded) return store_failure(loaded.error());
    if (!*loaded) return {};
    store::SupplyRow row = **loaded;
    const ChargedMeter* cm = charged(meter);
    const std::string account = cm ? cm->meter->account : "";
    row.attempts += 1;
    const std::string before = row.observed;
    // A failed command tells nothing about the meter: keep what was last seen, so
    // that the eventual success is reported as the cut or restore it is.
    if (ok) row.observed = observed ? supply_word(*observed) : "unknown";
    // Relay protection counts what moved the contact: re-asserting the state the
    // meter was last seen in (after a restart, a repeated force) does not.
    if (ok && row.observed != before) {
        const auto history = prepaid::record_switch(
            {row.last_switch_ms, row.switch_day, row.switches_today}, calendar_, now_ms);
        row.last_switch_ms = history.last_switch_ms;
        row.switch_day = history.day_key;
        row.switches_today = history.switches_today;
    }
    row.observed_ms = now_ms;
    if (auto r = tables_.put_supply(row); !r) return r;
    if (!ok) {
        return event(tx, "supply_switch_failed", meter, account,
                     {{"desired", row.desired}, {"attempt", row.attempts}, {"error", error}},
                     now_ms);
    }
    if (row.observed == row.desired) {
        // Only a change is a cut or a restore; re-asserting the state the meter was
        // already in (after a restart, or a repeated force) is a confirmation.
        const char* type = before != row.desired && before != "unknown"
                               ? (row.desired == "off" ? "supply_cut" : "supply_restored")
                               : "supply_confirmed";
        return event(tx, type, meter, account,
                     {{"state", row.desired}, {"reason", row.reason}, {"previous", before}},
                     now_ms);
    }
    return event(tx, "supply_mismatch", meter, account,
                 {{"desired", row.desired}, {"observed", row.observed}, {"attempt", row.attempts}},
                 now_ms);
}

Expected<prepaid::SupplyCheck> PrepaidEngine::observe_supply(store::Transaction& tx,
                                                             const std::string& meter,
                                                             std::optional<prepaid::Supply> seen,
                                                             std::int64_t now_ms) {
    auto loaded = tables_.supply(meter);
    if (!loaded) return store_failure(loaded.error());
    if (!*loaded) return prepaid::SupplyCheck{};
    store::SupplyRow row = **loaded;
    const auto desired = parse_supply(row.desired).value_or(Supply::On);
    const auto check = prepaid::judge_supply_check(desired, parse_supply(row.observed), seen);
    if (!check.record) return check;
    const std::string before = row.observed;
    row.observed = supply_word(*seen);
    row.observed_ms = now_ms;
    // A new disagreement: the attempts made for the last one are spent history.
    if (check.switch_back) row.attempts = 0;
    if (auto r = tables_.put_supply(row); !r) return unexpected(r.error());
    if (!check.changed_outside) return check;
    const ChargedMeter* cm = charged(meter);
    auto r = event(tx, "supply_changed_outside", meter, cm ? cm->meter->account : "",
                   {{"observed", row.observed},
                    {"previous", before},
                    {"desired", row.desired},
                    {"reason", row.reason},
                    {"switching_back", check.switch_back}},
                   now_ms);
    if (!r) return unexpected(r.error());
    return check;
}

Result PrepaidEngine::report_stuck(store::Transaction& tx, const std::string& meter,
                                   const std::string& why, std::int64_t now_ms) {
    const ChargedMeter* cm = charged(meter);
    return event(tx, "supply_needs_attention", meter, cm ? cm->meter->account : "",
                 {{"why", why}, {"needs_person", true}}, now_ms);
}

}  // namespace ecmgw::core
