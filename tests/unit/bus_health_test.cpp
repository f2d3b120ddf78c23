// The bus's state changes as events: one per change, never one per silent turn,
// probe or reopen attempt.
#include <doctest/doctest.h>

#include "bus/bus_health.hpp"

using ecmgw::bus::BusHealth;
using namespace std::chrono_literals;

namespace {

constexpr std::int64_t kStart = 1'780'000'000'000;  // 2026-05-28T20:26:40Z

BusHealth two_meters() {
    return BusHealth(
        "floor1", "/dev/ttyUSB0 2400 8E1",
        {{"E-0001", "dlt645-2007 000000000001"}, {"E-0002", "dlt645-2007 000000000002"}}, kStart);
}

}  // namespace

TEST_CASE("a meter that turns dead is reported offline once, with its last error") {
    BusHealth h = two_meters();
    CHECK_FALSE(h.answered(1, kStart + 1'000));
    // Two silent turns: not dead yet, no event.
    CHECK_FALSE(h.silent(1, "no answer within 400 ms", false, 1, 0ms, kStart + 3'000));
    CHECK_FALSE(h.silent(1, "no answer within 400 ms", false, 2, 0ms, kStart + 5'000));
    auto offline = h.silent(1, "no answer within 400 ms", true, 3, 60s, kStart + 7'500);
    REQUIRE(offline);
    CHECK(offline->type == "meter_offline");
    CHECK(offline->bus == "floor1");
    CHECK(offline->meter == "E-0002");
    CHECK(offline->ts_ms == kStart + 7'500);
    CHECK(offline->details["last_error"] == "no answer within 400 ms");
    CHECK(offline->details["silent_s"] == 6);  // since its last answer
    CHECK(offline->details["silent_turns"] == 3);
    CHECK(offline->details["probe_in_s"] == 60);
    CHECK(offline->details["last_answer"] == "2026-05-28T20:26:41.000Z");
    CHECK(offline->details["message"].get<std::string>().find(
              "meter E-0002 (dlt645-2007 000000000002) on bus floor1 has not answered 3 turns") ==
          0);
    CHECK(h.offline(1));
    CHECK_FALSE(h.offline(0));
    // Every failed probe after that: no event.
    for (int i = 0; i < 5; ++i)
        CHECK_FALSE(h.silent(1, "no answer within 400 ms", true, 4 + i, 120s, kStart + 60'000 * i));
}

TEST_CASE("a dead meter's first answer reports it online with how long it was silent") {
    BusHealth h = two_meters();
    h.answered(0, kStart + 2'000);
    REQUIRE(h.silent(0, "garbled", true, 3, 60s, kStart + 10'000));
    auto online = h.answered(0, kStart + 92'000);
    REQUIRE(online);
    CHECK(online->type == "meter_online");
    CHECK(online->meter == "E-0001");
    CHECK(online->details["offline_s"] == 90);
    CHECK_FALSE(h.offline(0));
    // Answers after that are no change.
    CHECK_FALSE(h.answered(0, kStart + 94'000));
    // Silent again and dead again: a new offline event, a new change.
    CHECK_FALSE(h.silent(0, "no answer", false, 1, 0ms, kStart + 96'000));
    auto again = h.silent(0, "no answer", true, 3, 60s, kStart + 100'000);
    REQUIRE(again);
    CHECK(again->details["silent_s"] == 6);
}

TEST_CASE("a meter silent from the start is reported offline once, never having answered") {
    BusHealth h = two_meters();
    CHECK_FALSE(h.silent(1, "no answer", false, 2, 0ms, kStart + 4'000));
    auto offline = h.silent(1, "no answer", true, 3, 60s, kStart + 6'000);
    REQUIRE(offline);
    CHECK(offline->details["silent_s"] == 6);  // since the bus started
    CHECK_FALSE(offline->details.contains("last_answer"));
    CHECK(offline->details["message"].get<std::string>().find(
              "never answered since the bus started") != std::string::npos);
    auto online = h.answered(1, kStart + 66'000);
    REQUIRE(online);
    CHECK(online->details["offline_s"] == 66);
}

TEST_CASE("a port that fails and cannot be opened again is lost once, then restored once") {
    BusHealth h = two_meters();
    CHECK_FALSE(h.opened(kStart));  // the first open is no change
    h.link_failed("write: Input/output error", kStart + 10'000);
    auto lost =
        h.open_failed("cannot open /dev/ttyUSB0: No such file or directory", kStart + 10'001);
    REQUIRE(lost);
    CHECK(lost->type == "bus_link_lost");
    CHECK(lost->bus == "floor1");
    CHECK(lost->meter.empty());
    CHECK(lost->details["link"] == "/dev/ttyUSB0 2400 8E1");
    CHECK(lost->details["cause"] == "write: Input/output error");
    CHECK(lost->details["error"] == "cannot open /dev/ttyUSB0: No such file or directory");
    CHECK(lost->details["since"] == "2026-05-28T20:26:50.000Z");
    CHECK(h.link_lost());
    // The reopen attempts while it stays away: no event.
    for (int i = 2; i < 8; ++i) CHECK_FALSE(h.open_failed("cannot open", kStart + 10'000 * i));
    auto restored = h.opened(kStart + 95'500);
    REQUIRE(restored);
    CHECK(restored->type == "bus_link_restored");
    CHECK(restored->details["lost_s"] == 85);
    CHECK(restored->details["failed_attempts"] == 7);
    CHECK_FALSE(h.link_lost());
    CHECK_FALSE(h.opened(kStart + 96'000));
}

TEST_CASE("a port that opens again at the first attempt was not lost") {
    BusHealth h = two_meters();
    h.opened(kStart);
    h.link_failed("read: Input/output error", kStart + 1'000);
    CHECK_FALSE(h.opened(kStart + 1'001));
    // A later loss starts afresh: its cause is its own.
    h.link_failed("tcp: connection reset", kStart + 5'000);
    auto lost = h.open_failed("tcp: connection refused", kStart + 5'001);
    REQUIRE(lost);
    CHECK(lost->details["cause"] == "tcp: connection reset");
    CHECK(lost->details["since"] == "2026-05-28T20:26:45.000Z");
}

TEST_CASE("a port that cannot be opened at the start is lost from the start") {
    BusHealth h = two_meters();
    auto lost = h.open_failed("cannot open /dev/ttyUSB0: No such file or directory", kStart + 5);
    REQUIRE(lost);
    CHECK_FALSE(lost->details.contains("cause"));
    CHECK(lost->details["message"].get<std::string>().find("cannot be opened") !=
          std::string::npos);
    CHECK_FALSE(h.open_failed("cannot open", kStart + 1'005));
    REQUIRE(h.opened(kStart + 3'005));
}
