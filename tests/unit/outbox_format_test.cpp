// The JSON texts of outbox records and MQTT batch messages (docs/mqtt.md):
// valid JSON, exact decimal digits, escaped text, seq and count as the cloud reads them.
#include <doctest/doctest.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/outbox_format.hpp"

using namespace ecmgw;
using namespace ecmgw::core;
using nlohmann::json;

namespace {

json parse(const std::string& text) {
    INFO(text);
    REQUIRE(json::accept(text));
    return json::parse(text);
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

store::Reading reading(std::string meter, std::int64_t ts_ms, std::string quantity, Decimal value) {
    return store::Reading{std::move(meter), ts_ms, std::move(quantity), value};
}

store::OutboxRecord record(std::int64_t seq, const store::Reading& r) {
    return store::OutboxRecord{seq, kKindReading, reading_body(r), 0};
}

}  // namespace

// --- timestamps --------------------------------------------------------------------

TEST_CASE("rfc3339_utc of the epoch") { CHECK(rfc3339_utc(0) == "1970-01-01T00:00:00.000Z"); }

TEST_CASE("rfc3339_utc keeps milliseconds") {
    // 1795566896 s = 2026-11-25 00:34:56 UTC (date -u -d @1795566896).
    CHECK(rfc3339_utc(1795566896123) == "2026-11-25T00:34:56.123Z");
    CHECK(rfc3339_utc(1795566896000) == "2026-11-25T00:34:56.000Z");
    CHECK(rfc3339_utc(1795566896007) == "2026-11-25T00:34:56.007Z");
    // 1700000000 s = 2023-11-14 22:13:20 UTC.
    CHECK(rfc3339_utc(1700000000999) == "2023-11-14T22:13:20.999Z");
}

TEST_CASE("rfc3339_utc across a leap day and a year end") {
    // 2024-02-29 23:59:59.500 and the millisecond before 2025.
    CHECK(rfc3339_utc(1709251199500) == "2024-02-29T23:59:59.500Z");
    CHECK(rfc3339_utc(1735689599999) == "2024-12-31T23:59:59.999Z");
    CHECK(rfc3339_utc(1735689600000) == "2025-01-01T00:00:00.000Z");
}

// --- reading bodies -------------------------------------------------------------------

TEST_CASE("reading_body is a JSON object with the reading's fields") {
    const auto text = reading_body(reading("E-0101", 1795566896123, "energy_kwh", {12345, 2}));
    const json j = parse(text);
    REQUIRE(j.is_object());
    CHECK(j.size() == 4);
    CHECK(j["meter"] == "E-0101");
    CHECK(j["ts"] == "2026-11-25T00:34:56.123Z");
    CHECK(j["quantity"] == "energy_kwh");
    CHECK(j["value"].is_number());
    CHECK(
        text ==
        R"({"meter":"E-0101","ts":"2026-11-25T00:34:56.123Z","quantity":"energy_kwh","value":123.45})");
}

TEST_CASE("reading_body writes the value with the meter's exact digits") {
    struct Case {
        Decimal value;
        const char* text;
    };
    const std::vector<Case> cases{
        {{12345, 2}, "123.45"},
        {{5, 3}, "0.005"},
        {{-1500, 3}, "-1.500"},
        {{-5, 3}, "-0.005"},
        {{0, 2}, "0.00"},
        {{2203, 1}, "220.3"},
        {{42, 0}, "42"},
        {{99999999, 2}, "999999.99"},
        {{123456789012345678, 4}, "12345678901234.5678"},
    };
    for (const auto& c : cases) {
        const auto text = reading_body(reading("E-1", 0, "energy_kwh", c.value));
        INFO(text);
        CHECK(contains(text, std::string(R"("value":)") + c.text + "}"));
        const json j = parse(text);
        CHECK(j["value"].is_number());
    }
}

TEST_CASE("reading_body value parses back to the same number") {
    const json j = parse(reading_body(reading("E-1", 0, "current_a_a", {-1234, 3})));
    CHECK(j["value"].get<double>() == doctest::Approx(-1.234));
    const json k = parse(reading_body(reading("E-1", 0, "energy_kwh", {5, 3})));
    CHECK(k["value"].get<double>() == doctest::Approx(0.005));
}

TEST_CASE("reading_body escapes quotes and backslashes in text") {
    const std::string meter = "E\"01\\x";
    const std::string quantity = "odd\"name\\";
    const auto text = reading_body(reading(meter, 0, quantity, {1, 0}));
    const json j = parse(text);
    CHECK(j["meter"] == meter);
    CHECK(j["quantity"] == quantity);
    CHECK(contains(text, R"("meter":"E\"01\\x")"));
}

TEST_CASE("reading_body escapes control characters and keeps UTF-8") {
    const std::string meter = "line\nbreak\ttab \xE7\x94\xB5";  // ... 电
    const json j = parse(reading_body(reading(meter, 0, "energy_kwh", {1, 0})));
    CHECK(j["meter"] == meter);
}

// --- batch messages ------------------------------------------------------------------------

TEST_CASE("topic_suffix of a reading") { CHECK(topic_suffix(kKindReading) == "readings"); }

TEST_CASE("batch_message with one record") {
    const auto r = reading("E-0101", 1795566896123, "energy_kwh", {12345, 2});
    const auto text = batch_message("gw-0001", {record(17, r)});
    const json j = parse(text);
    CHECK(j["gateway"] == "gw-0001");
    CHECK(j["seq"] == 17);
    CHECK(j["count"] == 1);
    REQUIRE(j.contains("readings"));
    REQUIRE(j["readings"].is_array());
    REQUIRE(j["readings"].size() == 1);
    const json& item = j["readings"][0];
    CHECK(item["seq"] == 17);
    CHECK(item["meter"] == "E-0101");
    CHECK(item["ts"] == "2026-11-25T00:34:56.123Z");
    CHECK(item["quantity"] == "energy_kwh");
    CHECK(contains(text, R"("value":123.45)"));
    // The record's seq comes first inside its item.
    CHECK(contains(text, R"("readings":[{"seq":17,"meter":"E-0101",)"));
    CHECK(text.starts_with(R"({"gateway":"gw-0001","seq":17,"count":1,"readings":[)"));
    CHECK(text.ends_with("]}"));
}

TEST_CASE("batch_message with many records") {
    std::vector<store::OutboxRecord> records;
    for (int i = 0; i < 50; ++i) {
        records.push_back(record(1000 + i, reading("E-" + std::to_string(i), 1795566896000 + i,
                                                   "energy_kwh", {100 * i + 5, 3})));
    }
    const auto text = batch_message("gw-0001", records);
    const json j = parse(text);
    CHECK(j["seq"] == 1000);
    CHECK(j["count"] == 50);
    REQUIRE(j["readings"].size() == 50);
    for (std::size_t i = 0; i < 50; ++i) {
        const json& item = j["readings"][i];
        CHECK(item["seq"] == 1000 + static_cast<int>(i));
        CHECK(item["meter"] == "E-" + std::to_string(i));
        CHECK(item.size() == 5);
    }
    // Exact digits survive the batch: 0.005, 0.105, ...
    CHECK(contains(text, R"("value":0.005})"));
    CHECK(contains(text, R"("value":4.905})"));
}

TEST_CASE("batch_message escapes the gateway id") {
    const auto r = reading("E-1", 0, "energy_kwh", {1, 0});
    const json j = parse(batch_message("gw\"x\\y", {record(1, r)}));
    CHECK(j["gateway"] == "gw\"x\\y");
}

TEST_CASE("batch_message with an empty body and no records") {
    // An empty object body still gives a valid item.
    const json one = parse(batch_message("gw", {store::OutboxRecord{5, kKindReading, "{}", 0}}));
    CHECK(one["readings"][0] == json{{"seq", 5}});

    const json none = parse(batch_message("gw", {}));
    CHECK(none["count"] == 0);
    CHECK(none["seq"] == 0);
}
