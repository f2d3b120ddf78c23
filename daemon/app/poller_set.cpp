#include "app/poller_set.hpp"

#include <algorithm>

#include "bus/driver_factory.hpp"

namespace ecmgw::app {

std::vector<BusPlan> plan_buses(const config::Config& cfg) {
    std::vector<BusPlan> plans;
    for (const auto& b : cfg.buses) {
        BusPlan plan{b, {}, {}};
        for (auto m : cfg.meters) {
            if (m.bus != b.name) continue;
            if (const auto* p = cfg.profile_of(m); p != nullptr) {
                const bool known = std::any_of(plan.profiles.begin(), plan.profiles.end(),
                                               [&](const auto& q) { return q.name == p->name; });
                if (!known) plan.profiles.push_back(*p);
            }
            // Charging settings don't change how the bus polls: a meter moved to
            // another account must not interrupt its bus.
            m.account.clear();
            m.tariff.clear();
            m.max_rate_per_hour = {};
            plan.meters.push_back(std::move(m));
        }
        plans.push_back(std::move(plan));
    }
    return plans;
}

std::string PollerChanges::describe() const {
    auto list = [](const char* what, const std::vector<std::string>& names) -> std::string {
        if (names.empty()) return {};
        std::string out = std::string(what) + " ";
        for (std::size_t i = 0; i < names.size(); ++i) out += (i ? ", " : "") + names[i];
        return out + "; ";
    };
    std::string out = list("kept", kept) + list("restarted", restarted) + list("started", started) +
                      list("stopped", stopped);
    if (out.empty()) return "no buses";
    out.resize(out.size() - 2);
    return out;
}

PollerSet::PollerSet(core::ReadingSink& sink) : sink_(sink) {}

PollerSet::~PollerSet() { stop_all(); }

Expected<PollerChanges> PollerSet::apply(const config::Config& cfg, bool start) {
    PollerChanges changes;
    std::vector<Entry> next;
    std::vector<std::unique_ptr<bus::BusPoller>> retired;
    // Build every new poller before touching the running ones: a failure leaves
    // the set as it was.
    std::vector<Entry> fresh;
    const std::vector<BusPlan> plans = plan_buses(cfg);
    {
        std::shared_lock lock(mutex_);
        for (const auto& plan : plans) {
            auto same = std::find_if(entries_.begin(), entries_.end(),
                                     [&](const Entry& e) { return e.plan == plan; });
            if (same != entries_.end()) continue;
            auto drivers = bus::make_bus_drivers(cfg, plan.bus);
            if (!drivers) return unexpected(drivers.error());
            std::vector<bus::PolledMeter> meters;
            for (auto& d : *drivers) {
                const auto* m = cfg.find_meter(d->id());
                meters.push_back({std::move(d), std::chrono::seconds(m->interval_s)});
            }
            fresh.push_back(
                {plan, std::make_unique<bus::BusPoller>(plan.bus, std::move(meters), sink_)});
        }
    }
    {
        std::unique_lock lock(mutex_);
        for (const auto& plan : plans) {
            auto same = std::find_if(entries_.begin(), entries_.end(),
                                     [&](const Entry& e) { return e.poller && e.plan == plan; });
            if (same != entries_.end()) {
                changes.kept.push_back(plan.bus.name);
                next.push_back(std::move(*same));
                continue;
            }
            const bool existed = std::any_of(entries_.begin(), entries_.end(), [&](const Entry& e) {
                return e.poller && e.plan.bus.name == plan.bus.name;
            });
            (existed ? changes.restarted : changes.started).push_back(plan.bus.name);
            auto made = std::find_if(fresh.begin(), fresh.end(),
                                     [&](const Entry& e) { return e.plan == plan; });
            next.push_back(std::move(*made));
        }
        for (auto& e : entries_) {
            if (!e.poller) continue;
            const bool renewed = std::find(changes.restarted.begin(), changes.restarted.end(),
                                           e.plan.bus.name) != changes.restarted.end();
            if (!renewed) changes.stopped.push_back(e.plan.bus.name);
            retired.push_back(std::move(e.poller));
        }
        entries_ = std::move(next);
        // Not part of a bus's plan: a reload changes it without restarting any bus.
        const std::chrono::seconds check(cfg.prepaid.supply_check_interval_s);
        for (auto& e : entries_) e.poller->set_supply_check_interval(check);
    }
    // An old poller lets go of its port before its successor opens it. Its pending
    // commands fail, and whoever waits on them hears why.
    for (auto& p : retired) p->stop();
    retired.clear();
    if (start) {
        std::shared_lock lock(mutex_);
        for (auto& e : entries_) {
            const auto& name = e.plan.bus.name;
            const bool is_new =
                std::find(changes.kept.begin(), changes.kept.end(), name) == changes.kept.end();
            if (is_new) e.poller->start();
        }
    }
    return changes;
}

void PollerSet::start_all() {
    std::shared_lock lock(mutex_);
    for (auto& e : entries_) e.poller->start();
}

void PollerSet::stop_all() {
    std::unique_lock lock(mutex_);
    for (auto& e : entries_) e.poller->stop();
}

template <class F>
auto PollerSet::with_meter(const std::string& meter, F f) const
    -> std::optional<decltype(f(std::declval<bus::BusPoller&>()))> {
    std::shared_lock lock(mutex_);
    for (const auto& e : entries_) {
        if (e.poller->has_meter(meter)) return f(*e.poller);
    }
    return std::nullopt;
}

std::optional<std::future<bus::CommandResult>> PollerSet::switch_supply(const std::string& meter,
                                                                        bool on) {
    return with_meter(meter, [&](bus::BusPoller& p) { return p.switch_supply(meter, on); });
}

std::optional<std::future<bus::CommandResult>> PollerSet::read_now(const std::string& meter) {
    return with_meter(meter, [&](bus::BusPoller& p) { return p.read_now(meter); });
}

std::optional<std::future<bus::CommandResult>> PollerSet::with_link(const std::string& bus,
                                                                    bus::BusPoller::LinkJob job) {
    std::shared_lock lock(mutex_);
    for (const auto& e : entries_) {
        if (e.poller->name() == bus) return e.poller->with_link(std::move(job));
    }
    return std::nullopt;
}

int PollerSet::sync_time_now() {
    std::shared_lock lock(mutex_);
    int buses = 0;
    for (auto& e : entries_) buses += e.poller->sync_time_soon() ? 1 : 0;
    return buses;
}

std::vector<bus::BusSnapshot> PollerSet::snapshots() const {
    std::shared_lock lock(mutex_);
    std::vector<bus::BusSnapshot> out;
    for (const auto& e : entries_) out.push_back(e.poller->snapshot());
    return out;
}

bool PollerSet::alive_since(std::chrono::steady_clock::time_point oldest) const {
    std::shared_lock lock(mutex_);
    return std::all_of(entries_.begin(), entries_.end(),
                       [&](const Entry& e) { return e.poller->last_alive() >= oldest; });
}

std::size_t PollerSet::size() const {
    std::shared_lock lock(mutex_);
    return entries_.size();
}

}  // namespace ecmgw::app
