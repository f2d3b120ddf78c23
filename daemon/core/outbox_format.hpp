// The JSON texts of outbox records and of the MQTT messages that carry them
// (the contract is docs/mqtt.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "ecmgw/store/store.hpp"

namespace ecmgw::core {

// "2026-11-24T04:34:56.123Z"
std::string rfc3339_utc(std::int64_t unix_ms);

// The body of a reading's outbox record: {"meter":…,"ts":…,"quantity":…,"value":…}.
// The value is a JSON number written with exactly the meter's digits.
std::string reading_body(const store::Reading& r);

// The body of an event's outbox record: {"event":…,"ts":…,"details":{…}}.
std::string event_body(std::string_view type, std::int64_t ts_ms, const nlohmann::json& details);

// Outbox kinds and the topic suffix each is published under.
inline constexpr const char* kKindReading = "reading";
inline constexpr const char* kKindLedger = "ledger";
inline constexpr const char* kKindEvent = "event";
inline constexpr const char* kKindSummary = "summary";
inline constexpr const char* kKindAck = "ack";
// "reading" → "readings", "ledger" → "ledger", "event" → "events",
// "summary" → "summaries", "ack" → "acks".
std::string topic_suffix(const std::string& kind);

// One MQTT message for consecutive records of one kind:
// {"gateway":…,"seq":FIRST,"count":N,"readings":[{"seq":…, …body}, …]}
std::string batch_message(const std::string& gateway,
                          const std::vector<store::OutboxRecord>& records);

}  // namespace ecmgw::core
