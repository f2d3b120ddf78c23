// The journald fields of a log line: what `journalctl -u ecmgw BUS=floor1` filters on.
#include <doctest/doctest.h>

#include <thread>

#include "platform/journal_log.hpp"
#include "platform/log_context.hpp"

using namespace ecmgw::platform;

TEST_CASE("a line outside any bus carries message, priority and identifier only") {
    const auto fields = journal_fields(spdlog::level::info, "store opened", "ecmgw", {});
    CHECK(fields == std::vector<std::string>{"MESSAGE=store opened", "PRIORITY=6",
                                             "SYSLOG_IDENTIFIER=ecmgw"});
}

TEST_CASE("bus and meter become BUS= and METER=") {
    const auto fields = journal_fields(spdlog::level::warn, "meter E-0101: no answer", "ecmgw",
                                       {"floor1", "E-0101"});
    CHECK(fields == std::vector<std::string>{"MESSAGE=meter E-0101: no answer", "PRIORITY=4",
                                             "SYSLOG_IDENTIFIER=ecmgw", "BUS=floor1",
                                             "METER=E-0101"});
}

TEST_CASE("a message with a line break stays one field") {
    const auto fields = journal_fields(spdlog::level::err, "two\nlines", "ecmgw", {});
    CHECK(fields.front() == "MESSAGE=two\nlines");
    CHECK(fields[1] == "PRIORITY=3");
}

TEST_CASE("spdlog levels map to syslog priorities") {
    CHECK(journal_priority(spdlog::level::trace) == 7);
    CHECK(journal_priority(spdlog::level::debug) == 7);
    CHECK(journal_priority(spdlog::level::info) == 6);
    CHECK(journal_priority(spdlog::level::warn) == 4);
    CHECK(journal_priority(spdlog::level::err) == 3);
    CHECK(journal_priority(spdlog::level::critical) == 2);
}

TEST_CASE("log scopes nest and restore, per thread") {
    CHECK(log_context().bus.empty());
    {
        LogScope bus(LogField::Bus, "floor1");
        {
            LogScope meter(LogField::Meter, "E-0101");
            CHECK(log_context().bus == "floor1");
            CHECK(log_context().meter == "E-0101");
            std::string other_thread_bus = "unset";
            std::thread([&] { other_thread_bus = log_context().bus; }).join();
            CHECK(other_thread_bus.empty());
        }
        CHECK(log_context().bus == "floor1");
        CHECK(log_context().meter.empty());
    }
    CHECK(log_context().bus.empty());
}

TEST_CASE("without JOURNAL_STREAM matching stderr, lines go to stderr") {
    ::setenv("JOURNAL_STREAM", "1:2", 1);
    CHECK_FALSE(stderr_is_journal());
    ::unsetenv("JOURNAL_STREAM");
    CHECK_FALSE(stderr_is_journal());
}
