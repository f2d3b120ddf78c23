// Tests of the [store] table: defaults, values, and each mistake with its place.
#include <doctest/doctest.h>

#include <string>

#include "config_doc.hpp"
#include "ecmgw/config/config.hpp"

using ecmgw::config::ConfigError;
using ecmgw::test::errors_of;
using ecmgw::test::has;
using ecmgw::test::only_error;
using ecmgw::test::parse_ok;

namespace {
const std::string kGateway = "[gateway]\nid = \"gw-0001\"\n\n";
}

TEST_CASE("[store]: every key has a default, for a box with an SD card") {
    const auto c = parse_ok(kGateway);
    CHECK(c.store.outbox_max_mb == 256);
    CHECK(c.store.retention_days == 90);
    CHECK(c.store.max_pending_readings == 100000);
    CHECK(parse_ok(kGateway + "[store]\n").store.retention_days == 90);
}

TEST_CASE("[store]: the values written are taken") {
    const auto c = parse_ok(kGateway +
                            "[store]\noutbox_max_mb = 64\nretention_days = 400\n"
                            "max_pending_readings = 5000\n");
    CHECK(c.store.outbox_max_mb == 64);
    CHECK(c.store.retention_days == 400);
    CHECK(c.store.max_pending_readings == 5000);
}

TEST_CASE("[store]: out of range, wrong type and unknown keys are placed and explained") {
    struct Case {
        std::string text;
        std::string key;
        int line;
        int column;
        std::string expected;
    };
    const Case cases[] = {
        {"outbox_max_mb = 0\n", "store.outbox_max_mb", 5, 17, "found 0, expected 1..65536 MB"},
        {"retention_days = 3651\n", "store.retention_days", 5, 18,
         "found 3651, expected 1..3650 days"},
        {"max_pending_readings = 999\n", "store.max_pending_readings", 5, 24,
         "found 999, expected 1000..10000000 readings"},
        {"outbox_max_mb = \"256\"\n", "store.outbox_max_mb", 5, 17, "expected an integer"},
        {"retention = 90\n", "store.retention", 5, 1, "did you mean 'retention_days'?"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.text);
        const ConfigError e = only_error(kGateway + "[store]\n" + c.text);
        CHECK(e.key == c.key);
        CHECK(e.line == c.line);
        CHECK(e.column == c.column);
        CHECK(has(e.message, c.expected));
        CHECK(has(e.to_string(), "t.toml:" + std::to_string(c.line) + ":"));
    }
}

TEST_CASE("[store]: a key of it above every header says where it belongs") {
    const ConfigError e = only_error("retention_days = 30\n" + kGateway);
    CHECK(has(e.message, "[store]"));
    const ConfigError twice = only_error(kGateway + "[[store]]\nretention_days = 30\n");
    CHECK(twice.key == "store");
    CHECK(has(twice.message, "a single table"));
}
