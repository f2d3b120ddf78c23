#include "app/run_daemon.hpp"

#include <fmt/core.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <memory>
#include <vector>

#include "bus/bus_poller.hpp"
#include "bus/driver_factory.hpp"
#include "core/command_handler.hpp"
#include "core/ingest.hpp"
#include "core/prepaid_core.hpp"
#include "ecmgw/store/store.hpp"
#include "platform/service_notify.hpp"
#include "platform/wall_clock.hpp"
#include "uplink/command_auth.hpp"
#include "uplink/mqtt_uplink.hpp"

namespace ecmgw::app {

namespace {

using Clock = std::chrono::steady_clock;
// A component whose loop has not turned for this long is stuck: stop feeding
// the watchdog so that systemd restarts us.
constexpr std::chrono::seconds kStuckAfter{60};
constexpr std::chrono::seconds kSummaryEvery{60};

sigset_t handled_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    return set;
}

struct Components {
    std::unique_ptr<store::Store> store;
    std::unique_ptr<uplink::MqttUplink> uplink;
    std::unique_ptr<core::Ingest> ingest;
    std::vector<std::unique_ptr<bus::BusPoller>> pollers;
    std::unique_ptr<core::PrepaidCore> prepaid;
    std::unique_ptr<core::CommandHandler> commands;

    bool alive() const {
        const auto oldest = Clock::now() - kStuckAfter;
        if (ingest->last_alive() < oldest || uplink->last_alive() < oldest) return false;
        for (const auto& p : pollers) {
            if (p->last_alive() < oldest) return false;
        }
        return true;
    }

    std::string summary() const {
        auto backlog = store->outbox_stats();
        const auto up = uplink->stats();
        std::uint64_t transactions = 0, timeouts = 0, dead = 0;
        for (const auto& p : pollers) {
            const auto s = p->snapshot();
            transactions += s.counters.requests;
            timeouts += s.counters.timeouts;
            for (const auto& m : s.meters) dead += m.stats.dead ? 1 : 0;
        }
        return fmt::format(
            "{} readings stored, {} bus transactions ({} timeouts), {} meter(s) "
            "not answering, outbox {} waiting, cloud {}, {} published",
            ingest->committed(), transactions, timeouts, dead, backlog ? backlog->count : -1,
            up.connected ? "connected" : "offline", up.records);
    }
};

Expected<Components> build(const config::Config& cfg) {
    std::error_code ec;
    std::filesystem::create_directories(cfg.gateway.data_dir, ec);
    if (ec)
        return fail("cannot create data_dir " + cfg.gateway.data_dir.string() + ": " +
                    ec.message());
    const auto database = cfg.gateway.data_dir / "ecmgw.db";
    auto store = store::Store::open(database);
    if (!store) return fail(store.error().message);

    Components c;
    c.store = std::move(*store);
    c.uplink = std::make_unique<uplink::MqttUplink>(cfg, database);
    c.ingest = std::make_unique<core::Ingest>(*c.store, [u = c.uplink.get()] { u->notify(); });
    for (const auto& b : cfg.buses) {
        auto drivers = bus::make_bus_drivers(cfg, b);
        if (!drivers) return fail(drivers.error().message);
        std::vector<bus::PolledMeter> meters;
        for (auto& d : *drivers) {
            const auto* m = cfg.find_meter(d->id());
            meters.push_back({std::move(d), std::chrono::seconds(m->interval_s)});
        }
        c.pollers.push_back(std::make_unique<bus::BusPoller>(b, std::move(meters), *c.ingest));
    }
    // The pollers live on the heap: their addresses outlive moving `c`.
    std::vector<bus::BusPoller*> pollers;
    for (auto& p : c.pollers) pollers.push_back(p.get());
    auto switch_meter = [pollers](const std::string& meter,
                                  bool on) -> std::optional<std::future<bus::CommandResult>> {
        for (auto* p : pollers) {
            if (p->has_meter(meter)) return p->switch_supply(meter, on);
        }
        return std::nullopt;
    };
    auto prepaid = core::PrepaidCore::create(cfg, *c.store, switch_meter);
    if (!prepaid) return fail(prepaid.error().message);
    c.prepaid = std::move(*prepaid);
    if (auto r = c.prepaid->start(platform::wall_ms()); !r)
        return fail("prepaid: " + r.error().message);
    c.ingest->set_hooks(c.prepaid.get());

    // Without a key every command is refused, so the daemon does not listen at all.
    if (!cfg.cloud.command_key_file.empty()) {
        auto key = uplink::read_command_key(cfg.cloud.command_key_file);
        if (!key) return fail("[cloud] command_key_file: " + key.error().message);
        uplink::VerifyOptions options;
        options.window_ms = static_cast<std::int64_t>(cfg.cloud.command_max_age_s) * 1000;
        c.commands =
            std::make_unique<core::CommandHandler>(*c.prepaid, *c.store, std::move(*key), options);
        c.uplink->set_command_receiver(
            [ingest = c.ingest.get(), handler = c.commands.get()](std::string payload) {
                ingest->post([handler, payload = std::move(payload)] {
                    handler->handle(payload, platform::wall_ms());
                });
            });
    }
    return c;
}

}  // namespace

void block_signals() {
    const sigset_t set = handled_signals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int run_daemon(const config::Config& cfg) {
    // Meters keep local time: broadcast times and command deadlines use the
    // gateway's zone. Set before any thread starts (setenv is not thread-safe).
    ::setenv("TZ", cfg.gateway.timezone.c_str(), 1);
    ::tzset();
    auto built = build(cfg);
    if (!built) {
        spdlog::critical("{}", built.error().message);
        return 1;
    }
    Components& c = *built;
    auto seq = c.store->last_seq();
    spdlog::info("gateway {}: {} bus(es), {} meter(s), store {} (last seq {}), cloud {}",
                 cfg.gateway.id, cfg.buses.size(), cfg.meters.size(),
                 (cfg.gateway.data_dir / "ecmgw.db").string(), seq ? *seq : -1, cfg.cloud.uri);

    c.uplink->start();
    c.ingest->start();
    for (auto& p : c.pollers) p->start();
    platform::notify_ready(
        fmt::format("polling {} meter(s) on {} bus(es)", cfg.meters.size(), cfg.buses.size()));

    const auto watchdog = platform::watchdog_interval();
    const auto tick = watchdog
                          ? std::chrono::duration_cast<std::chrono::milliseconds>(*watchdog / 2)
                          : std::chrono::milliseconds(1000);
    const sigset_t set = handled_signals();
    auto next_summary = Clock::now() + kSummaryEvery;
    while (true) {
        const timespec timeout{static_cast<time_t>(tick.count() / 1000),
                               static_cast<long>(tick.count() % 1000) * 1'000'000};
        const int sig = sigtimedwait(&set, nullptr, &timeout);
        if (sig == SIGTERM || sig == SIGINT) {
            spdlog::info("signal {}: finishing the current transactions and stopping", sig);
            break;
        }
        if (sig == SIGHUP)
            spdlog::warn("SIGHUP: live reload is not supported yet; restart to apply a new config");
        if (watchdog && c.alive()) platform::notify_watchdog();
        if (Clock::now() >= next_summary) {
            const auto text = c.summary();
            spdlog::info("{}", text);
            platform::notify_status(text);
            next_summary = Clock::now() + kSummaryEvery;
        }
    }

    platform::notify_stopping();
    for (auto& p : c.pollers) p->stop();
    c.ingest->stop();
    c.uplink->stop();
    spdlog::info("stopped: {}", c.summary());
    return 0;
}

}  // namespace ecmgw::app
