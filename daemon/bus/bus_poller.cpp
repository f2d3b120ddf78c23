#include "bus/bus_poller.hpp"
#include "platform/log_context.hpp"
#include "platform/thread_name.hpp"
#include "platform/wall_clock.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "bus/dlt645_client.hpp"
#include "bus/driver_factory.hpp"
#include "bus/meter_clock.hpp"
#include "ecmgw/protocols/serial_port.hpp"
#include "ecmgw/protocols/tcp_link.hpp"

namespace ecmgw::bus {

using platform::wall_ms;

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kFirstReopenBackoff{1000};
constexpr std::chrono::milliseconds kMaxReopenBackoff{30000};

std::vector<std::chrono::milliseconds> intervals_of(const std::vector<PolledMeter>& meters) {
    std::vector<std::chrono::milliseconds> out;
    for (const auto& m : meters) out.push_back(m.interval);
    return out;
}

std::vector<std::unique_ptr<MeterDriver>> drivers_of(std::vector<PolledMeter>& meters) {
    std::vector<std::unique_ptr<MeterDriver>> out;
    for (auto& m : meters) out.push_back(std::move(m.driver));
    return out;
}

CommandResult failed(std::string why) {
    CommandResult r;
    r.error = std::move(why);
    return r;
}

std::vector<BusHealth::Meter> health_meters(const std::vector<std::unique_ptr<MeterDriver>>& ds) {
    std::vector<BusHealth::Meter> out;
    for (const auto& d : ds) out.push_back({d->id(), d->describe()});
    return out;
}

std::string link_name(const config::BusConfig& bus) {
    if (bus.transport == config::Transport::Tcp) {
        return "tcp://" + bus.host + ":" + std::to_string(bus.port);
    }
    return transport::describe(
        {bus.device, bus.baud, config::to_char(bus.parity), bus.data_bits, bus.stop_bits});
}

}  // namespace

BusPoller::BusPoller(config::BusConfig bus, std::vector<PolledMeter> meters,
                     core::ReadingSink& sink, BackoffPolicy backoff)
    : bus_(std::move(bus)),
      drivers_(drivers_of(meters)),
      sink_(sink),
      schedule_(intervals_of(meters), Clock::now(), backoff),
      health_(bus_.name, link_name(bus_), health_meters(drivers_), wall_ms()) {
    stats_.resize(drivers_.size());
    next_supply_check_.resize(drivers_.size());
    snapshot_.name = bus_.name;
    snapshot_.link = link_name(bus_);
}

BusPoller::~BusPoller() { stop(); }

void BusPoller::start() {
    alive_ns_ = Clock::now().time_since_epoch().count();
    thread_ = std::thread([this] {
        platform::name_this_thread("bus:" + bus_.name);
        const platform::LogScope bus_field(platform::LogField::Bus, bus_.name);
        run();
    });
}

void BusPoller::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

bool BusPoller::has_meter(const std::string& id) const {
    return std::any_of(drivers_.begin(), drivers_.end(),
                       [&](const auto& d) { return d->id() == id; });
}

std::future<CommandResult> BusPoller::submit(Command::Kind kind, const std::string& meter,
                                             bool on) {
    std::promise<CommandResult> promise;
    auto future = promise.get_future();
    auto it = std::find_if(drivers_.begin(), drivers_.end(),
                           [&](const auto& d) { return d->id() == meter; });
    std::lock_guard lock(mutex_);
    if (it == drivers_.end() || stopping_) {
        promise.set_value(failed(it == drivers_.end() ? "no meter " + meter + " on bus " + bus_.name
                                                      : "bus " + bus_.name + " is stopping"));
        return future;
    }
    commands_.push_back(
        {kind, static_cast<std::size_t>(it - drivers_.begin()), on, std::move(promise), {}});
    wake_.notify_all();
    return future;
}

std::future<CommandResult> BusPoller::with_link(LinkJob job) {
    std::promise<CommandResult> promise;
    auto future = promise.get_future();
    std::lock_guard lock(mutex_);
    if (stopping_) {
        promise.set_value(failed("bus " + bus_.name + " is stopping"));
        return future;
    }
    commands_.push_back({Command::Kind::LendLink, 0, false, std::move(promise), std::move(job)});
    wake_.notify_all();
    return future;
}

void BusPoller::lend_link(Command& command) {
    if (auto r = link_->set_line(bus_line(bus_)); !r) {
        close_link(r.error().message);
        command.done.set_value(failed("bus " + bus_.name + ": " + r.error().message));
        return;
    }
    spdlog::info("bus {}: scheduled polling paused for a job on the port", bus_.name);
    CommandResult result;
    Lease lease(*this);
    lease.progressed();
    try {
        result = command.job(*link_, lease);
    } catch (const std::exception& e) {
        // Another part's job must not end the bus thread.
        result = failed(e.what());
    }
    spdlog::info("bus {}: scheduled polling resumed", bus_.name);
    command.done.set_value(std::move(result));
}

void BusPoller::Lease::progressed() { poller_.alive_ns_ = Clock::now().time_since_epoch().count(); }

bool BusPoller::Lease::stopping() const {
    std::lock_guard lock(poller_.mutex_);
    return poller_.stopping_;
}

std::future<CommandResult> BusPoller::read_now(const std::string& meter) {
    return submit(Command::Kind::ReadNow, meter, false);
}

std::future<CommandResult> BusPoller::switch_supply(const std::string& meter, bool on) {
    return submit(Command::Kind::Switch, meter, on);
}

BusSnapshot BusPoller::snapshot() const {
    std::lock_guard lock(mutex_);
    BusSnapshot s = snapshot_;
    for (std::size_t i = 0; i < drivers_.size(); ++i) {
        s.meters.push_back(
            {drivers_[i]->id(), drivers_[i]->describe(), stats_[i], stats_[i].latency()});
    }
    return s;
}

Clock::time_point BusPoller::last_alive() const {
    return Clock::time_point(Clock::duration(alive_ns_.load()));
}

// Sleeps until `t`, a command or stop; false when stopping.
bool BusPoller::wait_until(Clock::time_point t) {
    std::unique_lock lock(mutex_);
    // Wake at least every second so the watchdog sees the loop alive.
    while (!stopping_ && commands_.empty() && !time_sync_asked_ && Clock::now() < t) {
        wake_.wait_until(lock, std::min(t, Clock::now() + std::chrono::seconds(1)));
        alive_ns_ = Clock::now().time_since_epoch().count();
    }
    return !stopping_;
}

std::optional<BusPoller::Command> BusPoller::next_command() {
    std::lock_guard lock(mutex_);
    if (commands_.empty()) return std::nullopt;
    Command c = std::move(commands_.front());
    commands_.pop_front();
    return c;
}

bool BusPoller::ensure_open() {
    while (!link_) {
        auto link =
            bus_.transport == config::Transport::Tcp
                ? transport::open_tcp({bus_.host, bus_.port, std::chrono::milliseconds(5000)})
                : transport::open_serial_port({bus_.device, bus_.baud, config::to_char(bus_.parity),
                                               bus_.data_bits, bus_.stop_bits});
        if (link) {
            link_ = std::move(*link);
            exchange_ = std::make_unique<Exchange>(Exchange{*link_, {}, counters_});
            exchange_->latencies = &latencies_;
            exchange_->gap = std::chrono::milliseconds(bus_.gap_ms);
            context_ = std::make_unique<BusContext>(*exchange_);
            spdlog::info("bus {}: opened {}", bus_.name, link_->describe());
            report(health_.opened(wall_ms()));
            reopen_backoff_ = kFirstReopenBackoff;
            const bool dlt645 = std::any_of(drivers_.begin(), drivers_.end(), [](const auto& d) {
                return d->takes_time_broadcast();
            });
            if (bus_.time_sync_interval_s > 0 && dlt645) next_time_sync_ = Clock::now();
            std::lock_guard lock(mutex_);
            snapshot_.port_open = true;
            return true;
        }
        // Log the first failure of a run of them only; the state is in the snapshot.
        if (reopen_backoff_ == kFirstReopenBackoff) {
            spdlog::error("bus {}: {}; retrying with backoff", bus_.name, link.error().message);
        }
        report(health_.open_failed(link.error().message, wall_ms()));
        if (!wait_until(Clock::now() + reopen_backoff_)) return false;
        reopen_backoff_ = std::min(reopen_backoff_ * 2, kMaxReopenBackoff);
        // A command waiting for a bus that cannot open should not wait for ever.
        while (auto c = next_command()) {
            c->done.set_value(failed("bus " + bus_.name + ": " + link.error().message));
        }
    }
    return true;
}

void BusPoller::close_link(const std::string& why) {
    spdlog::error("bus {}: {}; reopening", bus_.name, why);
    health_.link_failed(why, wall_ms());
    context_.reset();
    exchange_.reset();
    link_.reset();
    std::lock_guard lock(mutex_);
    snapshot_.port_open = false;
    ++snapshot_.reopens;
}

bool BusPoller::prepare(std::size_t meter) {
    const auto& driver = *drivers_[meter];
    if (auto r = link_->set_line(driver.line().value_or(bus_line(bus_))); !r) {
        close_link(r.error().message);
        return false;
    }
    exchange_->timing = {
        driver.response_timeout().value_or(std::chrono::milliseconds(bus_.timeout_ms)),
        std::chrono::milliseconds(bus_.inter_byte_timeout_ms)};
    latencies_.clear();
    return true;
}

Expected<ReadOutcome, ReadError> BusPoller::read_with_retries(std::size_t meter) {
    auto outcome = drivers_[meter]->read(*context_);
    for (int retry = 0; retry < bus_.retries && !outcome; ++retry) {
        const auto kind = outcome.error().kind;
        if (kind != ReadFailure::Timeout && kind != ReadFailure::Garbled) break;
        outcome = drivers_[meter]->read(*context_);
    }
    return outcome;
}

std::optional<Expected<SupplyState, ReadError>> BusPoller::check_supply(std::size_t meter,
                                                                        const ReadOutcome& read) {
    const std::chrono::seconds interval(supply_check_s_.load());
    if (interval.count() <= 0 || !drivers_[meter]->can_switch()) return std::nullopt;
    const auto now = Clock::now();
    auto& next = next_supply_check_[meter];
    // The first check waits an interval: at start the reconciler asserts every
    // meter's state, which reads it back.
    if (next == Clock::time_point{}) next = now + interval;
    if (now < next) return std::nullopt;
    next = now + interval;
    if (read.supply) return *read.supply;
    return drivers_[meter]->supply_state(*context_);
}

void BusPoller::account(std::size_t meter, const LinkCounters& before,
                        const Expected<ReadOutcome, ReadError>& outcome) {
    const auto& id = drivers_[meter]->id();
    std::lock_guard lock(mutex_);
    MeterStats& s = stats_[meter];
    s.transactions += counters_.requests - before.requests;
    s.answers += counters_.answers - before.answers;
    s.timeouts += counters_.timeouts - before.timeouts;
    s.garbled += counters_.checksum_errors - before.checksum_errors;
    for (auto latency : latencies_) s.record_latency(latency);
    latencies_.clear();
    if (outcome) {
        s.last_success_ms = wall_ms();
        s.readings += outcome->samples.size();
        for (const auto& e : outcome->item_errors) {
            if (e.kind == ReadFailure::Refused) ++s.refused;
            if (e.kind == ReadFailure::Garbled) ++s.garbled;
            if (e.kind == ReadFailure::Invalid) {
                ++s.invalid;
                spdlog::warn("bus {}: meter {}: answer rejected, nothing stored: {}", bus_.name, id,
                             e.message);
            }
        }
    } else if (outcome.error().kind == ReadFailure::Invalid) {
        ++s.invalid;
    }
    snapshot_.counters = counters_;
}

void BusPoller::deliver(std::size_t meter, const std::vector<Sample>& samples) {
    if (samples.empty()) return;
    const auto ts = wall_ms();
    std::vector<store::Reading> readings;
    readings.reserve(samples.size());
    for (const auto& s : samples)
        readings.push_back({drivers_[meter]->id(), s.ts_ms.value_or(ts), s.quantity, s.value});
    sink_.accept(std::move(readings));
}

void BusPoller::report(std::optional<core::BusEvent> event) {
    if (event) sink_.accept_event(std::move(*event));
}

void BusPoller::run_turn(const PollSchedule::Turn& turn) {
    const std::size_t m = turn.meter;
    auto& driver = *drivers_[m];
    const platform::LogScope meter_field(platform::LogField::Meter, driver.id());
    if (!prepare(m)) return;
    const LinkCounters before = counters_;
    const bool was_dead = schedule_.dead(m);
    Expected<ReadOutcome, ReadError> outcome = ReadOutcome{};
    std::optional<Expected<SupplyState, ReadError>> supply;
    Clock::time_point checked_at;
    if (turn.probe) {
        auto alive = driver.probe(*context_);
        if (!alive) outcome = unexpected(alive.error());
    } else {
        outcome = read_with_retries(m);
        // Within the turn, so that its exchange counts in the meter's statistics.
        checked_at = Clock::now();
        if (outcome) supply = check_supply(m, *outcome);
        // A check the meter refused or garbled counts as an item of the turn.
        if (supply && !*supply && supply->error().kind != ReadFailure::LinkError)
            outcome->item_errors.push_back(supply->error());
    }
    account(m, before, outcome);
    if (!outcome && outcome.error().kind == ReadFailure::LinkError) {
        close_link(outcome.error().message);  // the port failed, not the meter
        return;
    }
    const auto now = Clock::now();
    if (outcome) {
        schedule_.answered(m, now);
        if (was_dead) spdlog::info("bus {}: meter {} answers again", bus_.name, driver.id());
        report(health_.answered(m, wall_ms()));
        deliver(m, outcome->samples);
    } else {
        spdlog::debug("bus {}: meter {}: {}", bus_.name, driver.id(), outcome.error().message);
        schedule_.silent(m, now);
        if (!was_dead && schedule_.dead(m)) {
            spdlog::warn(
                "bus {}: meter {} ({}) has not answered {} turns; probing it every {} s "
                "at most, the other meters keep their schedule",
                bus_.name, driver.id(), driver.describe(), schedule_.silent_cycles(m),
                schedule_.current_backoff(m).count() / 1000);
        }
        report(health_.silent(m, outcome.error().message, schedule_.dead(m),
                              schedule_.silent_cycles(m), schedule_.current_backoff(m), wall_ms()));
    }
    {
        std::lock_guard lock(mutex_);
        stats_[m].dead = schedule_.dead(m);
    }
    if (supply && *supply) {
        spdlog::debug(
            "bus {}: meter {}: supply check reads {} ({} ms on the bus)", bus_.name, driver.id(),
            to_string(**supply),
            std::chrono::duration_cast<std::chrono::milliseconds>(now - checked_at).count());
        sink_.observe_supply({driver.id(), **supply, checked_at});
    } else if (supply) {
        spdlog::debug("bus {}: meter {}: supply check: {}", bus_.name, driver.id(),
                      supply->error().message);
        if (supply->error().kind == ReadFailure::LinkError) close_link(supply->error().message);
    }
}

void BusPoller::run_command(Command& command) {
    if (command.kind == Command::Kind::LendLink) return lend_link(command);
    const std::size_t m = command.meter;
    auto& driver = *drivers_[m];
    // Read-now and switching lines carry METER= like the meter's own turns.
    const platform::LogScope meter_field(platform::LogField::Meter, driver.id());
    CommandResult result;
    if (!prepare(m)) {
        command.done.set_value(failed("bus " + bus_.name + ": the port failed"));
        return;
    }
    const LinkCounters before = counters_;
    if (command.kind == Command::Kind::ReadNow) {
        auto outcome = read_with_retries(m);
        account(m, before, outcome);
        schedule_.read_out_of_turn(m, outcome.has_value(), Clock::now());
        {
            std::lock_guard lock(mutex_);
            stats_[m].dead = schedule_.dead(m);
        }
        if (outcome) {
            report(health_.answered(m, wall_ms()));
            deliver(m, outcome->samples);
            result.ok = true;
            result.samples = outcome->samples;
        } else {
            result.error = driver.describe() + ": " + outcome.error().message;
        }
    } else {
        auto state = driver.switch_supply(*context_, command.on);
        // The switch read the state back: the next check can wait an interval.
        next_supply_check_[m] = Clock::now() + std::chrono::seconds(supply_check_s_.load());
        account(m, before, ReadOutcome{});
        if (state) {
            result.ok = true;
            result.state = *state;
            spdlog::info("bus {}: meter {} switched {}; reads back {}", bus_.name, driver.id(),
                         command.on ? "on" : "off", to_string(*state));
        } else {
            result.error = driver.describe() + ": " + state.error().message;
        }
    }
    command.done.set_value(std::move(result));
}

bool BusPoller::sync_time_soon() {
    const bool takes = std::any_of(drivers_.begin(), drivers_.end(),
                                   [](const auto& d) { return d->takes_time_broadcast(); });
    if (!takes) return false;
    {
        std::lock_guard lock(mutex_);  // not lost between the waiter's check and its wait
        time_sync_asked_ = true;
    }
    wake_.notify_all();
    return true;
}

void BusPoller::sync_time() {
    time_sync_asked_ = false;
    const auto interval = std::chrono::seconds(bus_.time_sync_interval_s);
    next_time_sync_ =
        bus_.time_sync_interval_s > 0 ? Clock::now() + interval : Clock::time_point::max();
    const auto now = std::chrono::system_clock::now();
    if (!clock_is_plausible(now)) {
        if (!warned_clock_) {
            spdlog::warn("bus {}: the gateway clock is not set; no time broadcast until it is",
                         bus_.name);
        }
        warned_clock_ = true;
        return;
    }
    warned_clock_ = false;
    Dlt645Client client(*exchange_);
    if (auto r = client.broadcast_time(local_datetime(now)); !r) {
        close_link(r.error().message);
        return;
    }
    spdlog::info("bus {}: broadcast the time to its DL/T 645 meters", bus_.name);
    std::lock_guard lock(mutex_);
    ++snapshot_.time_syncs;
}

void BusPoller::run() {
    while (true) {
        alive_ns_ = Clock::now().time_since_epoch().count();
        {
            std::lock_guard lock(mutex_);
            if (stopping_) break;
        }
        if (!ensure_open()) break;
        if (auto command = next_command()) {
            run_command(*command);
            continue;
        }
        const auto now = Clock::now();
        if (now >= next_time_sync_ || time_sync_asked_) {
            sync_time();
            continue;
        }
        if (schedule_.empty()) {
            wait_until(next_time_sync_);
            continue;
        }
        const auto turn = schedule_.next();
        if (turn.due > now) {
            wait_until(std::min(turn.due, next_time_sync_));
            continue;
        }
        run_turn(turn);
    }
    std::lock_guard lock(mutex_);
    for (auto& c : commands_) c.done.set_value(failed("bus " + bus_.name + " stopped"));
    commands_.clear();
}

}  // namespace ecmgw::bus
