#include "core/prepaid_core.hpp"

#include <spdlog/spdlog.h>

#include <map>

#include "core/local_calendar.hpp"
#include "platform/wall_clock.hpp"

namespace ecmgw::core {

namespace {
using Clock = std::chrono::steady_clock;
// While a switch is on the bus its result is looked for this often.
constexpr std::chrono::milliseconds kBusyTurn{50};
constexpr std::chrono::milliseconds kIdleTurn{1000};
}  // namespace

PrepaidCore::PrepaidCore(const config::Config& cfg, store::Store& store)
    : cfg_(&cfg),
      store_(store),
      calendar_(std::make_unique<prepaid::Calendar>(local_calendar(cfg.prepaid))) {}

PrepaidCore::~PrepaidCore() = default;

Expected<std::unique_ptr<PrepaidCore>> PrepaidCore::create(
    const config::Config& cfg, store::Store& store, SupplyReconciler::SwitchFn switch_meter) {
    std::unique_ptr<PrepaidCore> core(new PrepaidCore(cfg, store));
    auto tables = store::PrepaidTables::attach(store);
    if (!tables) return unexpected(tables.error());
    core->tables_ = std::move(*tables);
    core->engine_ = std::make_unique<PrepaidEngine>(cfg, *core->calendar_, store, *core->tables_);
    core->reconciler_ =
        std::make_unique<SupplyReconciler>(*core->engine_, store, std::move(switch_meter));
    return core;
}

Result PrepaidCore::transact(const std::function<Result(store::Transaction&)>& body) {
    auto tx = store_.begin();
    if (!tx) return unexpected(tx.error());
    if (auto r = body(*tx); !r) {
        engine_->take_changed_supply();  // rolled back: nothing changed
        return r;
    }
    if (auto r = tx->commit(); !r) {
        engine_->take_changed_supply();
        return r;
    }
    after_commit();
    return {};
}

Result PrepaidCore::start(std::int64_t now_ms) {
    if (auto r = transact([&](store::Transaction& tx) { return engine_->start(tx, now_ms); }); !r)
        return r;
    reconciler_->assert_all();
    return {};
}

Result PrepaidCore::reconfigure(const config::Config& cfg, std::int64_t now_ms) {
    auto calendar = std::make_unique<prepaid::Calendar>(local_calendar(cfg.prepaid));
    auto engine = std::make_unique<PrepaidEngine>(cfg, *calendar, store_, *tables_);
    engine->adopt_clock_jumps(*engine_);
    auto tx = store_.begin();
    if (!tx) return unexpected(tx.error());
    if (auto r = engine->start(*tx, now_ms); !r) return r;
    if (auto r = tx->commit(); !r) return r;
    // Changes the old engine noted belong to meters that are still asserted below.
    auto changed = engine_->take_changed_supply();
    for (auto& m : engine->take_changed_supply()) changed.push_back(std::move(m));
    reconciler_->rebind(*engine);
    engine_ = std::move(engine);
    calendar_ = std::move(calendar);
    cfg_ = &cfg;
    next_tick_ = {};  // friendly periods or thresholds may have changed: decide at once
    if (!changed.empty()) reconciler_->wake(changed);
    return {};
}

std::optional<ClockJump> PrepaidCore::look_at_clock() {
    const auto steady_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
            .count();
    return clock_watch_.observe(platform::wall_ms(), steady_ms);
}

Result PrepaidCore::on_batch(store::Transaction& tx, const std::vector<store::Reading>& batch) {
    // Before the batch is charged: its readings may be the first after a jump.
    if (auto jump = look_at_clock()) {
        if (auto r = engine_->clock_jumped(tx, *jump); !r) return r;
    }
    // A meter's time-of-use registers come in the same turn (same meter and time)
    // as its billing register.
    std::map<std::pair<std::string, std::int64_t>, std::map<std::string, Decimal>> turns;
    for (const auto& r : batch) {
        const ChargedMeter* cm = engine_->charged(r.meter);
        if (cm != nullptr && r.quantity != cm->quantity &&
            r.quantity.find("_t") != std::string::npos)
            turns[{r.meter, r.ts_ms}].emplace(r.quantity, r.value);
    }
    for (const auto& r : batch) {
        const PeriodRegisters* periods = nullptr;
        PeriodRegisters found;
        const ChargedMeter* cm = engine_->charged(r.meter);
        if (cm != nullptr && r.quantity == cm->quantity) {
            auto turn = turns.find({r.meter, r.ts_ms});
            if (turn != turns.end()) {
                const auto names = period_quantities(cm->quantity);
                for (std::size_t i = 0; i < names.size(); ++i) {
                    auto it = turn->second.find(names[i]);
                    if (it != turn->second.end()) found[i] = it->second;
                }
                periods = &found;
            }
        }
        if (auto ok = engine_->on_reading(tx, r, periods); !ok) {
            engine_->take_changed_supply();
            return ok;
        }
    }
    return {};
}

void PrepaidCore::after_commit() {
    auto changed = engine_->take_changed_supply();
    if (changed.empty()) return;
    reconciler_->wake(changed);
    // Act at once: a restore should not wait for the next timer turn.
    reconciler_->turn(platform::wall_ms());
}

void PrepaidCore::supply_observed(const SupplyObservation& observation) {
    reconciler_->observed(observation, platform::wall_ms());
}

void PrepaidCore::turn() {
    const auto now = Clock::now();
    if (auto jump = look_at_clock()) {
        if (auto r =
                transact([&](store::Transaction& tx) { return engine_->clock_jumped(tx, *jump); });
            !r)
            spdlog::error("prepaid: {}", r.error().message);
    }
    if (now >= next_tick_) {
        next_tick_ = now + std::chrono::seconds(cfg_->prepaid.check_interval_s);
        if (auto r = transact(
                [&](store::Transaction& tx) { return engine_->tick(tx, platform::wall_ms()); });
            !r)
            spdlog::error("prepaid: {}", r.error().message);
    }
    reconciler_->turn(platform::wall_ms());
}

std::chrono::milliseconds PrepaidCore::turn_every() const {
    return reconciler_->busy() ? kBusyTurn : kIdleTurn;
}

std::string PrepaidCore::account_of(const std::string& meter) const {
    const config::MeterConfig* m = cfg_->find_meter(meter);
    return m != nullptr ? m->account : std::string();
}

}  // namespace ecmgw::core
