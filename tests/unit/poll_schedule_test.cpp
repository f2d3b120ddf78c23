#include <doctest/doctest.h>

#include "bus/meter_stats.hpp"
#include "bus/poll_schedule.hpp"

using ecmgw::bus::BackoffPolicy;
using ecmgw::bus::MeterStats;
using ecmgw::bus::PollSchedule;
using namespace std::chrono_literals;

namespace {
const PollSchedule::TimePoint t0{};
}

TEST_CASE("every meter is due at the start and then on its own interval") {
    PollSchedule s({10s, 30s}, t0);
    auto first = s.next();
    CHECK(first.meter == 0);
    CHECK(first.due == t0);
    s.answered(0, t0 + 100ms);
    CHECK(s.next().meter == 1);
    s.answered(1, t0 + 200ms);
    CHECK(s.next().meter == 0);
    CHECK(s.next().due == t0 + 10s);
}

TEST_CASE("a late turn skips missed turns instead of bunching them") {
    PollSchedule s({10s}, t0);
    s.answered(0, t0 + 35s);  // the bus was busy for 35 s
    CHECK(s.next().due == t0 + 40s);
}

TEST_CASE("a meter is dead after the configured silent cycles and is then only probed") {
    BackoffPolicy policy{3, 60s, 900s};
    PollSchedule s({10s}, t0, policy);
    s.silent(0, t0 + 1s);
    CHECK_FALSE(s.dead(0));
    CHECK(s.next().due == t0 + 10s);
    s.silent(0, t0 + 11s);
    CHECK_FALSE(s.dead(0));
    s.silent(0, t0 + 21s);
    CHECK(s.dead(0));
    CHECK(s.next().probe);
    CHECK(s.next().due == t0 + 21s + 60s);
}

TEST_CASE("dead meter backoff doubles up to the cap") {
    BackoffPolicy policy{1, 60s, 300s};
    PollSchedule s({10s}, t0, policy);
    auto now = t0;
    s.silent(0, now);
    CHECK(s.current_backoff(0) == 60s);
    const std::chrono::milliseconds expected[] = {120s, 240s, 300s, 300s};
    for (auto want : expected) {
        now = s.next().due;
        s.silent(0, now);
        CHECK(s.current_backoff(0) == want);
        CHECK(s.next().due == now + want);
    }
}

TEST_CASE("a dead meter costs one probe per backoff period while others keep their cadence") {
    BackoffPolicy policy{1, 60s, 600s};
    PollSchedule s({5s, 5s}, t0, policy);
    int probes = 0, live_turns = 0;
    while (true) {
        const auto turn = s.next();
        const auto now = turn.due;
        if (now >= t0 + 600s) break;
        if (turn.meter == 0) {
            ++probes;
            s.silent(0, now + 600ms);
        } else {
            ++live_turns;
            s.answered(1, now + 100ms);
        }
    }
    // Backoffs 60, 120, 240 s: the first turn plus three probes inside 600 s.
    CHECK(probes == 4);
    CHECK(live_turns == 120);
}

TEST_CASE("a dead meter that answers a probe is read fully at once and back on schedule") {
    BackoffPolicy policy{1, 60s, 600s};
    PollSchedule s({10s}, t0, policy);
    s.silent(0, t0);
    const auto probe_at = s.next().due;
    s.answered(0, probe_at);
    CHECK_FALSE(s.dead(0));
    CHECK_FALSE(s.next().probe);
    CHECK(s.next().due == probe_at);
    s.answered(0, probe_at + 1s);
    CHECK(s.next().due == probe_at + 10s);
}

TEST_CASE("latency percentiles use the nearest rank over the recent window") {
    MeterStats stats;
    CHECK(stats.latency().samples == 0);
    for (int i = 1; i <= 100; ++i) stats.record_latency(std::chrono::microseconds(i * 1000));
    const auto l = stats.latency();
    CHECK(l.samples == 100);
    CHECK(l.p50 == 50ms);
    CHECK(l.p95 == 95ms);
    CHECK(l.p99 == 99ms);
    CHECK(l.max == 100ms);
    for (int i = 0; i < 300; ++i) stats.record_latency(1ms);
    CHECK(stats.latency().samples == MeterStats::kWindow);
    CHECK(stats.latency().max == 1ms);
}
