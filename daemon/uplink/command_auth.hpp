// Authentication of downlink commands (topic <prefix>/<gateway>/commands).
// A payload is an envelope {"body": "<the command as a JSON text>", "hmac": "<hex>"}:
// hmac is HMAC-SHA256 over the body's exact bytes with the gateway's key. The body is a
// JSON object with a unique command "id" and an "issued_at" time (RFC 3339); a command
// outside the freshness window is refused. Replays are not checked here: the store
// keeps the ids it has seen (a UNIQUE table), so the caller checks the returned id there.
// Pure functions: no MQTT, no store, no clock (the caller passes the time).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "ecmgw/common/expected.hpp"

namespace ecmgw::uplink {

// A command is a few hundred bytes; a tariff a few kilobytes.
inline constexpr std::size_t kMaxCommandPayload = 64 * 1024;
// A larger payload is refused, but read for its id to acknowledge the refusal, up to
// this ceiling; beyond it, it is not read at all (bounding the work a sender can cause).
inline constexpr std::size_t kMaxCommandPayloadRead = 1024 * 1024;
inline constexpr std::int64_t kDefaultFreshnessWindowMs = 300'000;
inline constexpr std::size_t kMaxCommandIdLength = 128;
// Envelope and body are JSON with at most this much nesting and no repeated keys.
inline constexpr int kMaxCommandJsonDepth = 32;

// A command whose HMAC checked out and that is fresh.
struct VerifiedCommand {
    std::string id;
    std::int64_t issued_at_ms = 0;  // UTC, Unix milliseconds
    nlohmann::json body_json;       // the whole body, an object (id, issued_at and the rest)
};

// Why a payload was refused, and the command id when one could be read, so that the
// refusal can be acknowledged. When `authenticated` is false the id was read from a
// body whose HMAC did not check out (or was never checked): anyone could have sent it,
// so it may be named in an acknowledgement but must not be recorded as seen.
struct Rejection {
    std::optional<std::string> id;
    bool authenticated = false;
    std::string reason;
};

struct VerifyOptions {
    std::int64_t window_ms = kDefaultFreshnessWindowMs;  // |now - issued_at| <= window
    std::size_t max_payload = kMaxCommandPayload;
    std::size_t max_read = kMaxCommandPayloadRead;  // read for an id only, above max_payload
};

// Checks, in order: the payload's size (one too large, up to `max_read`, is read
// only for its body's unauthenticated id); the envelope (a JSON object with exactly the
// string fields "body" and "hmac"); hmac (64 hex digits, either case) against
// HMAC-SHA256(key, body) in constant time; the body (a JSON object); its id (1 to 128
// printable ASCII characters, no spaces); its issued_at; freshness against `now_ms`
// (Unix milliseconds). An empty key refuses everything. Never throws.
Expected<VerifiedCommand, Rejection> verify_command(std::string_view payload, std::string_view key,
                                                    std::int64_t now_ms,
                                                    const VerifyOptions& options = {});

// The command key: the file's content without surrounding whitespace. A missing,
// unreadable, empty (or all-whitespace) or oversized file is an error naming the path.
Expected<std::string> read_command_key(const std::filesystem::path& path);

// HMAC-SHA256 of `bytes` with `key`, as 64 lowercase hex digits (for tests and tools).
std::string hmac_sha256_hex(std::string_view key, std::string_view bytes);

// A command id as the contract allows it: 1 to 128 printable ASCII characters, no spaces.
bool is_valid_command_id(std::string_view id);

// Text from the outside, quoted for a message: at most 64 bytes, and anything but
// printable ASCII shown as '?', so a reason never carries control characters.
std::string quote_text(std::string_view s);

// RFC 3339 date-time → UTC Unix milliseconds: "2026-11-24T08:00:00Z",
// "2026-11-24T16:00:00.250+08:00". 'T' and 'Z' in either case; 1 to 9 fraction digits
// (beyond milliseconds truncated); seconds up to 60 (a leap second); offsets up to ±23:59.
Expected<std::int64_t> parse_rfc3339_ms(std::string_view text);

}  // namespace ecmgw::uplink
