// The prepaid side of the core, as the ingest thread runs it: charges each
// batch's readings in its transaction (PrepaidEngine), re-decides supply on a
// timer, and reconciles meters with their desired state (SupplyReconciler).
// Commands reach it through Ingest::post, so every store write stays on one thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "core/ingest.hpp"
#include "core/prepaid_engine.hpp"
#include "core/supply_reconciler.hpp"

namespace ecmgw::core {

class PrepaidCore final : public CoreHooks {
  public:
    // `store` is the ingest thread's connection; `cfg` must outlive this.
    static Expected<std::unique_ptr<PrepaidCore>> create(const config::Config& cfg,
                                                         store::Store& store,
                                                         SupplyReconciler::SwitchFn switch_meter);
    ~PrepaidCore() override;

    // Accounts, opening balances and supply rows; then every desired state is
    // asserted once. Call before the ingest thread starts.
    Result start(std::int64_t now_ms);
    // Runs from `cfg` from now on (a reload): new accounts are opened, meters and
    // tariffs follow the new config, and meters whose desired state changed are
    // switched; switches under way are still collected. On the ingest thread;
    // `cfg` must outlive this (or the next reconfigure). On failure the old config
    // stays in force.
    Result reconfigure(const config::Config& cfg, std::int64_t now_ms);

    Result on_batch(store::Transaction& tx, const std::vector<store::Reading>& batch) override;
    void after_commit() override;
    void supply_observed(const SupplyObservation& observation) override;
    void turn() override;
    std::chrono::milliseconds turn_every() const override;
    std::string account_of(const std::string& meter) const override;

    // Runs `body` in a transaction on the calling (ingest) thread, then acts on
    // supply changes it made. For command handlers.
    Result transact(const std::function<Result(store::Transaction&)>& body);

    PrepaidEngine& engine() { return *engine_; }

  private:
    PrepaidCore(const config::Config& cfg, store::Store& store);

    const config::Config* cfg_;
    store::Store& store_;
    std::unique_ptr<prepaid::Calendar> calendar_;
    std::unique_ptr<store::PrepaidTables> tables_;
    std::unique_ptr<PrepaidEngine> engine_;
    std::unique_ptr<SupplyReconciler> reconciler_;
    std::chrono::steady_clock::time_point next_tick_{};
    ClockJumpWatch clock_watch_;
    // Compares the wall clock's progress with the steady clock's since the last look.
    std::optional<ClockJump> look_at_clock();
};

}  // namespace ecmgw::core
