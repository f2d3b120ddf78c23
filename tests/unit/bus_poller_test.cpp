// The bus poller's ordering rules, with fake drivers that record what they are
// asked to do (the port is a real pseudo-terminal nobody answers on).
#include <doctest/doctest.h>
#include <pty.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "bus/bus_poller.hpp"
#include "platform/log_context.hpp"

using namespace ecmgw;
using namespace std::chrono_literals;

namespace {

// What the drivers did, in order; and a gate that holds the first read open.
struct Journal {
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<std::string> entries;
    std::string switched_in_context;  // the log context's meter during the last switch
    bool hold_first_read = false;
    bool release = false;

    void add(const std::string& e) {
        {
            std::lock_guard lock(mutex);
            entries.push_back(e);
        }
        changed.notify_all();
    }
    bool wait_for_entries(std::size_t n) {
        std::unique_lock lock(mutex);
        return changed.wait_for(lock, 20s, [&] { return entries.size() >= n; });
    }
    bool wait_for_count(const std::string& entry, std::ptrdiff_t n) {
        std::unique_lock lock(mutex);
        return changed.wait_for(
            lock, 20s, [&] { return std::count(entries.begin(), entries.end(), entry) >= n; });
    }
    void open_gate() {
        {
            std::lock_guard lock(mutex);
            release = true;
        }
        changed.notify_all();
    }
};

class FakeDriver final : public bus::MeterDriver {
  public:
    // `silent_calls`: so many reads and probes get no answer before it answers.
    FakeDriver(std::string id, Journal& journal, int silent_calls = 0, bool switchable = true)
        : id_(std::move(id)),
          journal_(journal),
          silent_calls_(silent_calls),
          switchable_(switchable) {}
    const std::string& id() const override { return id_; }
    std::string describe() const override { return "fake " + id_; }
    Expected<bus::ReadOutcome, bus::ReadError> read(bus::BusContext&) override {
        journal_.add("read " + id_);
        if (silent_calls_ > 0) {
            --silent_calls_;
            return unexpected(bus::ReadError{bus::ReadFailure::Timeout, "no answer"});
        }
        std::unique_lock lock(journal_.mutex);
        if (journal_.hold_first_read) {
            journal_.hold_first_read = false;
            journal_.changed.wait_for(lock, 20s, [&] { return journal_.release; });
        }
        return bus::ReadOutcome{{{"energy_kwh", Decimal{12345, 2}}}, {}};
    }
    Expected<void, bus::ReadError> probe(bus::BusContext&) override {
        journal_.add("probe " + id_);
        if (silent_calls_ > 0) {
            --silent_calls_;
            return unexpected(bus::ReadError{bus::ReadFailure::Timeout, "no answer"});
        }
        return {};
    }
    bool can_switch() const override { return switchable_; }
    Expected<bus::SupplyState, bus::ReadError> switch_supply(bus::BusContext&, bool on) override {
        {
            std::lock_guard lock(journal_.mutex);
            journal_.switched_in_context = platform::log_context().meter;
        }
        journal_.add(std::string("switch ") + id_ + (on ? " on" : " off"));
        return on ? bus::SupplyState::On : bus::SupplyState::Off;
    }
    Expected<bus::SupplyState, bus::ReadError> supply_state(bus::BusContext&) override {
        journal_.add("state " + id_);
        return bus::SupplyState::Off;
    }

  private:
    std::string id_;
    Journal& journal_;
    int silent_calls_;
    bool switchable_;
};

struct CollectingSink final : core::ReadingSink {
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<store::Reading> readings;
    std::vector<core::BusEvent> events;
    std::vector<core::SupplyObservation> observations;
    void accept(std::vector<store::Reading> r) override {
        {
            std::lock_guard lock(mutex);
            readings.insert(readings.end(), r.begin(), r.end());
        }
        changed.notify_all();
    }
    void accept_event(core::BusEvent e) override {
        {
            std::lock_guard lock(mutex);
            events.push_back(std::move(e));
        }
        changed.notify_all();
    }
    bool wait_for_readings(std::size_t n) {
        std::unique_lock lock(mutex);
        return changed.wait_for(lock, 20s, [&] { return readings.size() >= n; });
    }
    void observe_supply(core::SupplyObservation o) override {
        std::lock_guard lock(mutex);
        observations.push_back(std::move(o));
    }
};

// A pseudo-terminal to stand for the bus's port.
struct Pty {
    int master = -1, slave = -1;
    std::string path;
    Pty() {
        char name[256] = {};
        REQUIRE(openpty(&master, &slave, name, nullptr, nullptr) == 0);
        path = name;
    }
    ~Pty() {
        close(master);
        close(slave);
    }
};

config::BusConfig bus_on(const std::string& device) {
    config::BusConfig b;
    b.name = "test";
    b.device = device;
    b.gap_ms = 0;
    return b;
}

std::vector<bus::PolledMeter> fake_meters(Journal& journal, int n) {
    std::vector<bus::PolledMeter> meters;
    for (int i = 1; i <= n; ++i) {
        meters.push_back({std::make_unique<FakeDriver>("M" + std::to_string(i), journal), 1h});
    }
    return meters;
}

}  // namespace

TEST_CASE("every meter is read once at start and the readings reach the sink") {
    Pty pty;
    Journal journal;
    CollectingSink sink;
    bus::BusPoller poller(bus_on(pty.path), fake_meters(journal, 3), sink);
    poller.start();
    REQUIRE(journal.wait_for_entries(3));
    poller.stop();
    CHECK(journal.entries == std::vector<std::string>{"read M1", "read M2", "read M3"});
    std::lock_guard lock(sink.mutex);
    REQUIRE(sink.readings.size() == 3);
    CHECK(sink.readings[0].meter == "M1");
    CHECK(sink.readings[0].value == Decimal{12345, 2});
}

TEST_CASE("a command pre-empts the reads that are due") {
    Pty pty;
    Journal journal;
    journal.hold_first_read = true;
    CollectingSink sink;
    bus::BusPoller poller(bus_on(pty.path), fake_meters(journal, 5), sink);
    poller.start();
    REQUIRE(journal.wait_for_entries(1));  // M1's read is under way; M2..M5 are due
    auto done = poller.switch_supply("M4", false);
    journal.open_gate();
    REQUIRE(done.wait_for(20s) == std::future_status::ready);
    const auto result = done.get();
    CHECK(result.ok);
    REQUIRE(result.state.has_value());
    CHECK(*result.state == bus::SupplyState::Off);
    REQUIRE(journal.wait_for_entries(6));
    poller.stop();
    CHECK(journal.entries[0] == "read M1");
    CHECK(journal.entries[1] == "switch M4 off");
    CHECK(journal.entries[2] == "read M2");
}

TEST_CASE("a command wakes a bus that waits for its next turn") {
    Pty pty;
    Journal journal;
    CollectingSink sink;
    bus::BusPoller poller(bus_on(pty.path), fake_meters(journal, 2), sink);
    poller.start();
    REQUIRE(journal.wait_for_entries(2));  // the next turns are an hour away
    auto done = poller.read_now("M2");
    REQUIRE(done.wait_for(20s) == std::future_status::ready);
    const auto result = done.get();
    CHECK(result.ok);
    REQUIRE(result.samples.size() == 1);
    CHECK(result.samples[0].quantity == "energy_kwh");
    poller.stop();
    CHECK(journal.entries.back() == "read M2");
}

TEST_CASE("a command for a meter the bus does not have fails at once") {
    Pty pty;
    Journal journal;
    CollectingSink sink;
    bus::BusPoller poller(bus_on(pty.path), fake_meters(journal, 1), sink);
    auto done = poller.read_now("nope");
    REQUIRE(done.wait_for(1s) == std::future_status::ready);
    const auto result = done.get();
    CHECK_FALSE(result.ok);
    CHECK(result.error.find("no meter nope") != std::string::npos);
}

TEST_CASE("commands still queued when the poller stops are answered") {
    Pty pty;
    Journal journal;
    journal.hold_first_read = true;
    CollectingSink sink;
    bus::BusPoller poller(bus_on(pty.path), fake_meters(journal, 2), sink);
    poller.start();
    REQUIRE(journal.wait_for_entries(1));
    auto first = poller.read_now("M2");
    std::thread stopper([&] { poller.stop(); });
    journal.open_gate();
    stopper.join();
    REQUIRE(first.wait_for(20s) == std::future_status::ready);
    (void)first.get();  // ran, or failed with "stopped": either way, answered
}

TEST_CASE("a meter that dies and comes back is reported offline once and online once") {
    Pty pty;
    Journal journal;
    CollectingSink sink;
    auto bus = bus_on(pty.path);
    bus.retries = 0;
    std::vector<bus::PolledMeter> meters;
    // Two silent turns make it dead; then two silent probes, and it answers.
    meters.push_back({std::make_unique<FakeDriver>("M1", journal, 4), 10ms});
    bus::BusPoller poller(bus, std::move(meters), sink, bus::BackoffPolicy{2, 20ms, 40ms});
    poller.start();
    REQUIRE(sink.wait_for_readings(3));
    poller.stop();
    CHECK(std::vector<std::string>(journal.entries.begin(), journal.entries.begin() + 6) ==
          std::vector<std::string>{"read M1", "read M1", "probe M1", "probe M1", "probe M1",
                                   "read M1"});
    std::lock_guard lock(sink.mutex);
    REQUIRE(sink.events.size() == 2);
    CHECK(sink.events[0].type == "meter_offline");
    CHECK(sink.events[0].bus == "test");
    CHECK(sink.events[0].meter == "M1");
    CHECK(sink.events[0].details["last_error"] == "no answer");
    CHECK(sink.events[0].details["silent_turns"] == 2);
    CHECK(sink.events[1].type == "meter_online");
    CHECK(sink.events[1].meter == "M1");
}

TEST_CASE("a switchable meter's state is read every supply check interval, not every turn") {
    Pty pty;
    Journal journal;
    CollectingSink sink;
    std::vector<bus::PolledMeter> meters;
    meters.push_back({std::make_unique<FakeDriver>("M1", journal), 20ms});
    meters.push_back({std::make_unique<FakeDriver>("M2", journal, 0, false), 20ms});
    bus::BusPoller poller(bus_on(pty.path), std::move(meters), sink);
    poller.set_supply_check_interval(1s);
    const auto started = std::chrono::steady_clock::now();
    poller.start();
    REQUIRE(journal.wait_for_count("state M1", 2));
    const auto took = std::chrono::steady_clock::now() - started;
    poller.stop();
    // The first check waits an interval (the start-up assertion reads the state).
    CHECK(took >= 2s);
    std::lock_guard journal_lock(journal.mutex);
    const auto& e = journal.entries;
    CHECK(std::count(e.begin(), e.end(), "state M2") == 0);
    // Each check is part of a turn of M1: right after one of its reads.
    const auto first = std::find(e.begin(), e.end(), "state M1");
    REQUIRE(first != e.begin());
    CHECK(*(first - 1) == "read M1");
    const auto second = std::find(first + 1, e.end(), "state M1");
    CHECK(std::count(first, second, "read M1") >= 5);
    std::lock_guard sink_lock(sink.mutex);
    REQUIRE(sink.observations.size() >= 2);
    CHECK(sink.observations[0].meter == "M1");
    CHECK(sink.observations[0].state == bus::SupplyState::Off);
    CHECK(sink.observations[0].read_at < sink.observations[1].read_at);
}

TEST_CASE("no supply check with an interval of 0") {
    Pty pty;
    Journal journal;
    CollectingSink sink;
    std::vector<bus::PolledMeter> meters;
    meters.push_back({std::make_unique<FakeDriver>("M1", journal), 10ms});
    bus::BusPoller poller(bus_on(pty.path), std::move(meters), sink);
    poller.set_supply_check_interval(0s);
    poller.start();
    REQUIRE(journal.wait_for_count("read M1", 50));
    poller.stop();
    std::lock_guard lock(journal.mutex);
    CHECK(std::count(journal.entries.begin(), journal.entries.end(), "state M1") == 0);
}

TEST_CASE("a job on the lent port keeps the bus alive for the watchdog while it progresses") {
    Pty pty;
    Journal journal;
    CollectingSink sink;
    bus::BusPoller poller(bus_on(pty.path), fake_meters(journal, 1), sink);
    poller.start();
    REQUIRE(journal.wait_for_entries(1));  // the next turn is an hour away
    // The job takes one step each time the test asks, and holds the bus in between
    // (a scan waiting for its next unit's answer).
    std::mutex mutex;
    std::condition_variable changed;
    int asked = 0, done = 0;
    bool finish = false;
    auto lent = poller.with_link([&](transport::ByteLink&, bus::BusPoller::Lease& lease) {
        std::unique_lock lock(mutex);
        while (changed.wait_for(lock, 20s, [&] { return finish || asked > done; }) && !finish) {
            lease.progressed();
            ++done;
            changed.notify_all();
        }
        bus::CommandResult r;
        r.ok = true;
        return r;
    });
    for (int step = 1; step <= 3; ++step) {
        const auto before = std::chrono::steady_clock::now();
        std::unique_lock lock(mutex);
        ++asked;
        changed.notify_all();
        REQUIRE(changed.wait_for(lock, 20s, [&] { return done == step; }));
        // Only the job's progress can have moved the time: the bus thread is in the job.
        CHECK(poller.last_alive() >= before);
    }
    {
        std::lock_guard lock(mutex);
        finish = true;
    }
    changed.notify_all();
    REQUIRE(lent.wait_for(20s) == std::future_status::ready);
    CHECK(lent.get().ok);
    poller.stop();
}

TEST_CASE("stopping the poller ends a job on the lent port promptly") {
    Pty pty;
    Journal journal;
    CollectingSink sink;
    bus::BusPoller poller(bus_on(pty.path), fake_meters(journal, 1), sink);
    poller.start();
    REQUIRE(journal.wait_for_entries(1));
    std::promise<void> entered;
    // A job that would run for a minute unless told to stop (a long scan).
    auto lent = poller.with_link([&](transport::ByteLink&, bus::BusPoller::Lease& lease) {
        entered.set_value();
        const auto limit = std::chrono::steady_clock::now() + 60s;
        bus::CommandResult r;
        while (!lease.stopping() && std::chrono::steady_clock::now() < limit) {
            lease.progressed();
            std::this_thread::sleep_for(5ms);  // one step of the job's work
        }
        r.ok = lease.stopping();
        r.error = r.ok ? "" : "never told to stop";
        return r;
    });
    REQUIRE(entered.get_future().wait_for(20s) == std::future_status::ready);
    const auto start = std::chrono::steady_clock::now();
    poller.stop();
    CHECK(std::chrono::steady_clock::now() - start < 5s);
    REQUIRE(lent.wait_for(1s) == std::future_status::ready);
    const auto result = lent.get();
    CHECK_MESSAGE(result.ok, result.error);
}

TEST_CASE("a command's log lines name its meter (METER= in the journal)") {
    Pty pty;
    Journal journal;
    CollectingSink sink;
    bus::BusPoller poller(bus_on(pty.path), fake_meters(journal, 2), sink);
    poller.start();
    REQUIRE(journal.wait_for_entries(2));
    auto done = poller.switch_supply("M2", true);
    REQUIRE(done.wait_for(20s) == std::future_status::ready);
    CHECK(done.get().ok);
    poller.stop();
    std::lock_guard lock(journal.mutex);
    CHECK(journal.switched_in_context == "M2");
}
