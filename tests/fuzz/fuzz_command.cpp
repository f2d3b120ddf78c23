// libFuzzer target for downlink command intake (uplink/command_auth, core/commands).
// The bytes go in four ways: as an MQTT payload (random bytes never carry the right HMAC,
// so this covers the envelope and the id read from unauthenticated bodies); as a command
// body, signed with the fixed key, so the body checks and the typed commands see it; as
// a JSON value handed straight to parse_command; and as an RFC 3339 time. Besides the
// sanitizers, it checks what the intake promises: no throw, a reason for every refusal,
// ids that follow the id rule, acknowledgements that are valid JSON.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/commands.hpp"
#include "uplink/command_auth.hpp"

namespace up = ecmgw::uplink;
namespace core = ecmgw::core;
using nlohmann::json;

#define FUZZ_CHECK(cond)                                                                       \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            std::fprintf(stderr, "%s:%d: property violated: %s\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                                      \
        }                                                                                      \
    } while (false)

namespace {

const std::string kKey = "fuzz-command-key";
constexpr std::int64_t kNow = 1795507200000;  // 2026-11-24T08:00:00Z

void check_ack(const std::string& text) {
    FUZZ_CHECK(json::accept(text));
    const json ack = json::parse(text);
    FUZZ_CHECK(ack.is_object() && ack.contains("id") && ack.contains("ok"));
}

// A typed command agrees with the body it came from.
void exercise_parse(const up::VerifiedCommand& verified) {
    const auto command = core::parse_command(verified);
    if (!command) {
        FUZZ_CHECK(!command.error().message.empty());
        check_ack(core::ack_error(verified.id, command.error().message));
        return;
    }
    FUZZ_CHECK(command->id == verified.id);
    FUZZ_CHECK(command->issued_at_ms == verified.issued_at_ms);
    FUZZ_CHECK(verified.body_json.is_object());
    FUZZ_CHECK(verified.body_json.at("type") == std::string(core::command_type(command->action)));
    if (const auto* topup = std::get_if<core::TopUp>(&command->action)) {
        FUZZ_CHECK(topup->amount_fen >= 1 && topup->amount_fen <= core::kMaxCommandAmountFen);
        FUZZ_CHECK(!topup->account.empty() && !topup->txn.empty());
    }
    if (const auto* refund = std::get_if<core::Refund>(&command->action)) {
        FUZZ_CHECK(refund->amount_fen >= 1 && refund->amount_fen <= core::kMaxCommandAmountFen);
    }
    if (const auto* adjust = std::get_if<core::Adjust>(&command->action)) {
        FUZZ_CHECK(adjust->amount_fen != 0);
        FUZZ_CHECK(adjust->amount_fen >= -core::kMaxCommandAmountFen &&
                   adjust->amount_fen <= core::kMaxCommandAmountFen);
        FUZZ_CHECK(!adjust->reason.empty());
    }
    check_ack(core::ack_ok(verified.id));
}

void check_rejection(const up::Rejection& r) {
    FUZZ_CHECK(!r.reason.empty());
    if (r.id) {
        FUZZ_CHECK(up::is_valid_command_id(*r.id));
        check_ack(core::ack_error(*r.id, r.reason));
    }
}

void check_verified(const up::VerifiedCommand& v) {
    FUZZ_CHECK(up::is_valid_command_id(v.id));
    FUZZ_CHECK(v.body_json.is_object());
    FUZZ_CHECK(v.body_json.at("id") == v.id);
    const auto at = up::parse_rfc3339_ms(v.body_json.at("issued_at").get<std::string>());
    FUZZ_CHECK(at.has_value() && *at == v.issued_at_ms);
}

// The bytes as the payload of an MQTT message.
void as_payload(std::string_view input) {
    const auto r = up::verify_command(input, kKey, kNow);
    if (r) {
        // Only if the fuzzer found an HMAC: possible with a signed seed, never by chance.
        check_verified(*r);
        exercise_parse(*r);
    } else {
        check_rejection(r.error());
    }
}

// The bytes as a command body, signed: the HMAC checks out, so the body's own checks run.
void as_signed_body(std::string_view input) {
    // A JSON string holds UTF-8 only; bytes that are not are replaced, and the body that
    // travels (and is signed) is what the envelope decodes to.
    const std::string escaped =
        json(std::string(input)).dump(-1, ' ', false, json::error_handler_t::replace);
    const std::string body = json::parse(escaped).get<std::string>();
    const std::string payload =
        R"({"body":)" + escaped + R"(,"hmac":")" + up::hmac_sha256_hex(kKey, body) + "\"}";
    up::VerifyOptions any_time;
    any_time.window_ms = INT64_MAX;
    const auto r = up::verify_command(payload, kKey, kNow, any_time);
    if (!r) {
        check_rejection(r.error());
        // The HMAC matched, so an id named in the refusal is an authenticated one.
        if (r.error().id) FUZZ_CHECK(r.error().authenticated);
        return;
    }
    check_verified(*r);
    exercise_parse(*r);

    // The same command with the real window: fresh exactly when within 300 s.
    const auto timed = up::verify_command(payload, kKey, kNow);
    const std::int64_t age = kNow - r->issued_at_ms;
    FUZZ_CHECK(timed.has_value() ==
               (age >= -up::kDefaultFreshnessWindowMs && age <= up::kDefaultFreshnessWindowMs));
}

// The bytes as any JSON value, typed without the envelope's checks.
void as_command_json(std::string_view input) {
    json value = json::parse(input.begin(), input.end(), nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) return;
    exercise_parse(up::VerifiedCommand{"fuzz-1", kNow, std::move(value)});
}

// Civil date of a day count since 1970-01-01 (H. Hinnant's civil_from_days).
void civil_from_days(std::int64_t z, std::int64_t& y, int& m, int& d) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
    m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
    y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
}

// The bytes as a time: a time read, written back in UTC, reads as the same instant.
void as_time(std::string_view input) {
    const auto ms = up::parse_rfc3339_ms(input);
    if (!ms) {
        FUZZ_CHECK(!ms.error().message.empty());
        return;
    }
    const std::int64_t day_ms = 86'400'000;
    std::int64_t days = *ms / day_ms;
    std::int64_t rest = *ms % day_ms;
    if (rest < 0) {
        rest += day_ms;
        --days;
    }
    std::int64_t year = 0;
    int month = 0, day = 0;
    civil_from_days(days, year, month, day);
    if (year < 0 || year > 9999) return;  // an offset moved it out of four digits
    char text[40];
    std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", static_cast<int>(year),
                  month, day, static_cast<int>(rest / 3'600'000),
                  static_cast<int>(rest / 60'000 % 60), static_cast<int>(rest / 1000 % 60),
                  static_cast<int>(rest % 1000));
    const auto again = up::parse_rfc3339_ms(text);
    FUZZ_CHECK(again.has_value() && *again == *ms);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    as_payload(input);
    as_signed_body(input);
    as_command_json(input);
    as_time(input);
    return 0;
}
