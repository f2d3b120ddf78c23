#include "app/run_daemon.hpp"

#include <fmt/core.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <future>
#include <memory>
#include <vector>

#include "app/poller_set.hpp"
#include "control/server.hpp"
#include "core/command_handler.hpp"
#include "core/ingest.hpp"
#include "core/prepaid_core.hpp"
#include "core/provisioning.hpp"
#include "core/store_keeper.hpp"
#include "ecmgw/store/store.hpp"
#include "platform/service_notify.hpp"
#include "platform/wall_clock.hpp"
#include "uplink/command_auth.hpp"
#include "uplink/mqtt_uplink.hpp"

namespace ecmgw::app {

namespace {

using Clock = std::chrono::steady_clock;
using ConfigPtr = std::shared_ptr<const config::Config>;
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

std::filesystem::path database_of(const config::Config& cfg) {
    return cfg.gateway.data_dir / "ecmgw.db";
}

struct Components {
    ConfigPtr cfg;  // what runs now (the file with the cloud's registry laid over it)
    std::unique_ptr<store::Store> store;
    std::unique_ptr<uplink::MqttUplink> uplink;
    std::unique_ptr<core::Ingest> ingest;
    std::unique_ptr<core::StoreKeeper> keeper;  // [store] retention_days
    std::unique_ptr<PollerSet> pollers;
    std::unique_ptr<core::PrepaidCore> prepaid;
    std::unique_ptr<core::Provisioning> provisioning;
    std::unique_ptr<core::CommandHandler> commands;
    std::unique_ptr<control::ReloadDesk> reloads = std::make_unique<control::ReloadDesk>();
    std::unique_ptr<control::ControlServer> control;  // last: stops before what it reaches

    bool alive() const {
        const auto oldest = Clock::now() - kStuckAfter;
        if (ingest->last_alive() < oldest || uplink->last_alive() < oldest) return false;
        return pollers->alive_since(oldest);
    }

    std::string summary() const {
        auto backlog = store->outbox_stats();
        const auto up = uplink->stats();
        std::uint64_t transactions = 0, timeouts = 0, dead = 0;
        for (const auto& s : pollers->snapshots()) {
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

    // Runs `job` on the ingest thread (the store's writer) and waits for it.
    void on_ingest_thread(std::function<void()> job) {
        auto done = std::make_shared<std::promise<void>>();
        auto finished = done->get_future();
        ingest->post([job = std::move(job), done] {
            job();
            done->set_value();
        });
        finished.wait();
    }
};

// A reload is asked for by SIGHUP (systemctl reload), or by the cloud after it
// changed the registry; both arrive as SIGHUP at the main loop.
void request_reload() { ::kill(::getpid(), SIGHUP); }

// The file alone when the registry no longer fits it (a technician removed a bus
// the cloud's meters are on, say): the box keeps polling what the file describes,
// and the log says what was left out.
ConfigPtr effective_config(const config::Config& file_cfg, store::Store& store) {
    if (file_cfg.source.empty()) return std::make_shared<const config::Config>(file_cfg);
    auto merged = core::load_effective_config(file_cfg.source, store);
    if (merged) return std::make_shared<const config::Config>(std::move(*merged));
    for (const auto& e : merged.error()) spdlog::error("{}", e.to_string());
    spdlog::critical(
        "the tariffs, accounts and meters the cloud provisioned do not fit {}; running the "
        "file's configuration alone until that is fixed",
        file_cfg.source.string());
    return std::make_shared<const config::Config>(file_cfg);
}

Expected<Components> build(const config::Config& file_cfg) {
    std::error_code ec;
    std::filesystem::create_directories(file_cfg.gateway.data_dir, ec);
    if (ec)
        return fail("cannot create data_dir " + file_cfg.gateway.data_dir.string() + ": " +
                    ec.message());
    const auto database = database_of(file_cfg);
    auto store = store::Store::open(database);
    if (!store) return fail(store.error().message);

    Components c;
    c.store = std::move(*store);
    c.cfg = effective_config(file_cfg, *c.store);
    const config::Config& cfg = *c.cfg;
    c.uplink = std::make_unique<uplink::MqttUplink>(cfg, database);
    c.ingest = std::make_unique<core::Ingest>(*c.store, [u = c.uplink.get()] { u->notify(); });
    c.ingest->set_limits({std::int64_t{cfg.store.outbox_max_mb} << 20,
                          static_cast<std::size_t>(cfg.store.max_pending_readings)});
    c.keeper = std::make_unique<core::StoreKeeper>(database, cfg.store.retention_days);
    c.pollers = std::make_unique<PollerSet>(*c.ingest);
    if (auto made = c.pollers->apply(cfg, false); !made) return fail(made.error().message);
    auto switch_meter = [pollers = c.pollers.get()](const std::string& meter, bool on) {
        return pollers->switch_supply(meter, on);
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
        if (!cfg.source.empty())
            c.provisioning =
                std::make_unique<core::Provisioning>(*c.store, cfg.source, request_reload);
        core::CommandHandler::Services services;
        services.provisioning = c.provisioning.get();
        // The read's result is not waited for here: the reading arrives through
        // ingest like every other.
        services.read_now = [pollers = c.pollers.get()](const std::string& meter) {
            return pollers->read_now(meter).has_value();
        };
        services.time_sync = [pollers = c.pollers.get()] { return pollers->sync_time_now(); };
        c.commands = std::make_unique<core::CommandHandler>(*c.prepaid, *c.store, std::move(*key),
                                                            options, std::move(services));
        c.uplink->set_command_receiver(
            [ingest = c.ingest.get(), handler = c.commands.get()](std::string payload) {
                ingest->post([handler, payload = std::move(payload)] {
                    handler->handle(payload, platform::wall_ms());
                });
            });
    }
    c.control = std::make_unique<control::ControlServer>(
        control::view_of(*c.pollers, *c.ingest, *c.prepaid, *c.uplink, database, *c.reloads), c.cfg,
        cfg.control.socket);
    return c;
}

// What a reload cannot change while running: where the store is, and the cloud link
// (its session and command key). A change there is reported and waits for a restart.
void keep_what_needs_a_restart(const config::Config& running, config::Config& next) {
    if (next.gateway != running.gateway) {
        spdlog::warn("reload: [gateway] changed; it takes effect at the next restart");
        next.gateway = running.gateway;
    }
    if (next.cloud != running.cloud) {
        spdlog::warn("reload: [cloud] changed; it takes effect at the next restart");
        next.cloud = running.cloud;
    }
}

// Re-reads the config file and the cloud's registry; applies them when they are
// valid, else keeps running as before. Either way the cloud hears of it (an event).
void reload(Components& c) {
    platform::notify_reloading();
    c.reloads->begin();
    control::ReloadOutcome told;
    const ConfigPtr running = c.cfg;
    spdlog::info("reload: reading {}", running->source.string());
    // Its own short-lived connection: the ingest thread's is that thread's alone.
    auto loaded = [&]() -> Expected<config::Config, config::ConfigErrors> {
        auto reader = store::Store::open(database_of(*running));
        if (!reader)
            return unexpected(config::ConfigErrors{
                config::ConfigError{running->source.string(), 0, 0, "", reader.error().message}});
        return core::load_effective_config(running->source, **reader);
    }();
    std::string outcome;
    nlohmann::json details;
    if (!loaded) {
        for (const auto& e : loaded.error()) {
            spdlog::error("{}", e.to_string());
            told.errors.push_back(e.to_string());
        }
        outcome = "config_reload_failed";
        details = {{"errors", core::summarize(loaded.error())}};
        spdlog::error("reload refused: the running configuration stays in force");
    } else {
        keep_what_needs_a_restart(*running, *loaded);
        auto next = std::make_shared<const config::Config>(std::move(*loaded));
        auto changes = c.pollers->apply(*next, true);
        if (!changes) {
            outcome = "config_reload_failed";
            details = {{"errors", changes.error().message}};
            spdlog::error("reload refused: {}", changes.error().message);
            told.errors.push_back(changes.error().message);
        } else {
            Result prepaid;
            c.on_ingest_thread(
                [&] { prepaid = c.prepaid->reconfigure(*next, platform::wall_ms()); });
            if (!prepaid) {
                // The buses follow the new file already; charging keeps the old rules
                // until the store lets the new ones start.
                outcome = "config_reload_failed";
                details = {{"errors", "prepaid: " + prepaid.error().message}};
                spdlog::error("reload: prepaid kept the previous configuration: {}",
                              prepaid.error().message);
                told.errors.push_back("prepaid kept the previous configuration: " +
                                      prepaid.error().message);
            } else {
                c.cfg = next;
                c.control->set_config(next);
                outcome = "config_reloaded";
                told.applied = true;
                told.summary = changes->describe();
                details = {{"buses", changes->describe()},
                           {"meters", next->meters.size()},
                           {"accounts", next->accounts.size()},
                           {"tariffs", next->tariffs.size()}};
                spdlog::info("reload: {}; {} meter(s), {} account(s), {} tariff(s)",
                             changes->describe(), next->meters.size(), next->accounts.size(),
                             next->tariffs.size());
            }
        }
    }
    c.on_ingest_thread([&] {
        auto written = c.prepaid->transact([&](store::Transaction& tx) {
            return c.prepaid->engine().event(tx, outcome, "", "", details, platform::wall_ms());
        });
        if (!written) spdlog::error("reload: recording the event: {}", written.error().message);
    });
    c.reloads->finish(std::move(told));
    platform::notify_ready(
        fmt::format("polling {} meter(s) on {} bus(es)", c.cfg->meters.size(), c.pollers->size()));
}

}  // namespace

void block_signals() {
    const sigset_t set = handled_signals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int run_daemon(const config::Config& file_cfg) {
    // Meters keep local time: broadcast times and command deadlines use the
    // gateway's zone. Set before any thread starts (setenv is not thread-safe).
    ::setenv("TZ", file_cfg.gateway.timezone.c_str(), 1);
    ::tzset();
    auto built = build(file_cfg);
    if (!built) {
        spdlog::critical("{}", built.error().message);
        return 1;
    }
    Components& c = *built;
    const config::Config& cfg = *c.cfg;
    auto seq = c.store->last_seq();
    spdlog::info("gateway {}: {} bus(es), {} meter(s), store {} (last seq {}), cloud {}",
                 cfg.gateway.id, cfg.buses.size(), cfg.meters.size(), database_of(cfg).string(),
                 seq ? *seq : -1, cfg.cloud.uri);

    c.uplink->start();
    c.ingest->start();
    c.keeper->start();
    c.pollers->start_all();
    if (auto r = c.control->start(); !r)
        spdlog::error("control socket: {}; the CLI cannot reach this daemon", r.error().message);
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
        if (sig == SIGHUP) {
            if (c.cfg->source.empty()) {
                spdlog::warn("SIGHUP: no config file to read again");
                c.reloads->begin();
                c.reloads->finish(
                    {false, "", {"the daemon runs without a config file to read again"}});
            } else {
                reload(c);
            }
        }
        if (watchdog && c.alive()) platform::notify_watchdog();
        if (Clock::now() >= next_summary) {
            const auto text = c.summary();
            spdlog::info("{}", text);
            platform::notify_status(text);
            next_summary = Clock::now() + kSummaryEvery;
        }
    }

    platform::notify_stopping();
    c.control->stop();
    c.pollers->stop_all();
    c.keeper->stop();
    c.ingest->stop();
    c.uplink->stop();
    spdlog::info("stopped: {}", c.summary());
    return 0;
}

}  // namespace ecmgw::app
