// Downlink command intake: the envelope's HMAC, the body's id and freshness
// (uplink/command_auth), and the typed commands with their validation (core/commands).
#include <doctest/doctest.h>

#include <unistd.h>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "core/commands.hpp"
#include "uplink/command_auth.hpp"

using namespace ecmgw;
using namespace ecmgw::uplink;
using namespace ecmgw::core;
using nlohmann::json;

namespace {

const std::string kKey = "gw-0001-command-key";
constexpr std::int64_t kNow = 1795507200000;  // 2026-11-24T08:00:00Z

const std::string kTopUpBody =
    R"({"id":"c-7f3a","issued_at":"2026-11-24T08:00:00Z","type":"topup","account":"A-0101","amount_fen":10000,"txn":"wx-4200001234"})";

std::string envelope(const std::string& body, const std::string& hmac) {
    return json{{"body", body}, {"hmac", hmac}}.dump();
}

std::string signed_envelope(const std::string& body, const std::string& key = kKey) {
    return envelope(body, hmac_sha256_hex(key, body));
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// A payload that must be refused: returns the rejection.
Rejection refused(const std::string& payload, std::int64_t now = kNow,
                  const VerifyOptions& options = {}, const std::string& key = kKey) {
    INFO(payload);
    auto r = verify_command(payload, key, now, options);
    REQUIRE_FALSE(r.has_value());
    INFO(r.error().reason);
    CHECK_FALSE(r.error().reason.empty());
    return r.error();
}

VerifiedCommand verified(const std::string& body) {
    INFO(body);
    auto r = verify_command(signed_envelope(body), kKey, kNow);
    if (!r) FAIL_CHECK(r.error().reason);
    REQUIRE(r.has_value());
    return *r;
}

// A body with the common fields and the given type and fields.
std::string body_of(const std::string& type, json fields = json::object()) {
    fields["id"] = "c-1";
    fields["issued_at"] = "2026-11-24T08:00:00Z";
    fields["type"] = type;
    return fields.dump();
}

Command parsed(const std::string& type, json fields = json::object()) {
    auto c = parse_command(verified(body_of(type, std::move(fields))));
    if (!c) FAIL_CHECK(c.error().message);
    REQUIRE(c.has_value());
    CHECK(c->id == "c-1");
    CHECK(c->issued_at_ms == kNow);
    CHECK(command_type(c->action) == type);
    return *c;
}

// The reason a body is refused by parse_command.
std::string invalid(const std::string& type, json fields = json::object()) {
    const std::string body = body_of(type, std::move(fields));
    INFO(body);
    auto c = parse_command(verified(body));
    REQUIRE_FALSE(c.has_value());
    return c.error().message;
}

struct TempDir {
    std::filesystem::path path;
    TempDir() {
        path = std::filesystem::temp_directory_path() /
               ("ecmgw-command-key-" + std::to_string(::getpid()));
        std::filesystem::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    std::filesystem::path write(const std::string& name, const std::string& content) const {
        const auto file = path / name;
        std::ofstream(file, std::ios::binary) << content;
        return file;
    }
};

}  // namespace

// --- HMAC --------------------------------------------------------------------------------

TEST_CASE("HMAC-SHA256 matches RFC 4231") {
    // Test case 2.
    CHECK(hmac_sha256_hex("Jefe", "what do ya want for nothing?") ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    // Test case 1: key 20 x 0x0b, "Hi There".
    CHECK(hmac_sha256_hex(std::string(20, '\x0b'), "Hi There") ==
          "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    // Empty input and key still give a digest.
    CHECK(hmac_sha256_hex("", "").size() == 64);
    CHECK(hmac_sha256_hex("k", "") != hmac_sha256_hex("", ""));
}

// --- the envelope ------------------------------------------------------------------------

TEST_CASE("the issue's top-up is verified and parsed") {
    const auto v = verified(kTopUpBody);
    CHECK(v.id == "c-7f3a");
    CHECK(v.issued_at_ms == kNow);
    CHECK(v.body_json == json::parse(kTopUpBody));

    auto c = parse_command(v);
    REQUIRE(c.has_value());
    CHECK(c->id == "c-7f3a");
    CHECK(c->issued_at_ms == kNow);
    const auto* topup = std::get_if<TopUp>(&c->action);
    REQUIRE(topup != nullptr);
    CHECK(topup->account == "A-0101");
    CHECK(topup->amount_fen == 10000);
    CHECK(topup->txn == "wx-4200001234");
}

TEST_CASE("hmac digits may be upper case") {
    std::string hmac = hmac_sha256_hex(kKey, kTopUpBody);
    for (char& c : hmac) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    auto r = verify_command(envelope(kTopUpBody, hmac), kKey, kNow);
    CHECK(r.has_value());
}

TEST_CASE("a bad hmac is refused, naming the unauthenticated id") {
    std::string hmac = hmac_sha256_hex(kKey, kTopUpBody);
    hmac[10] = hmac[10] == '0' ? '1' : '0';
    const auto r = refused(envelope(kTopUpBody, hmac));
    CHECK(contains(r.reason, "does not match"));
    REQUIRE(r.id.has_value());
    CHECK(*r.id == "c-7f3a");
    CHECK_FALSE(r.authenticated);

    SUBCASE("signed with another key") {
        const auto other = refused(signed_envelope(kTopUpBody, "another key"));
        CHECK(contains(other.reason, "does not match"));
        CHECK(other.id == std::optional<std::string>("c-7f3a"));
        CHECK_FALSE(other.authenticated);
    }
    SUBCASE("the body changed after signing") {
        std::string changed = kTopUpBody;
        changed.replace(changed.find("10000"), 5, "99999");
        const auto other = refused(envelope(changed, hmac_sha256_hex(kKey, kTopUpBody)));
        CHECK(contains(other.reason, "does not match"));
        CHECK_FALSE(other.authenticated);
    }
    SUBCASE("the body re-serialized (the hmac covers its exact bytes)") {
        const std::string spaced = json::parse(kTopUpBody).dump(2);
        const auto other = refused(envelope(spaced, hmac_sha256_hex(kKey, kTopUpBody)));
        CHECK(contains(other.reason, "does not match"));
    }
    SUBCASE("no id can be read from an unauthenticated body that is not JSON") {
        const auto other = refused(envelope("nonsense", hmac));
        CHECK_FALSE(other.id.has_value());
    }
    SUBCASE("an unauthenticated id that breaks the id rule is not named") {
        const std::string body = R"({"id":"has space","issued_at":"2026-11-24T08:00:00Z"})";
        const auto other = refused(envelope(body, hmac));
        CHECK_FALSE(other.id.has_value());
    }
}

TEST_CASE("the hmac is over the body string's bytes, whatever its JSON escaping") {
    // The envelope escapes the body's characters; the HMAC is over the decoded text.
    const std::string body =
        R"({"id":"c-8","issued_at":"2026-11-24T08:00:00Z","type":"adjust","account":"A-1","amount_fen":-5,"reason":"换表"})";
    std::string payload = json{{"body", body}, {"hmac", hmac_sha256_hex(kKey, body)}}.dump(
        -1, ' ', /*ensure_ascii=*/true);
    CHECK(contains(payload, "\\u6362"));
    auto r = verify_command(payload, kKey, kNow);
    REQUIRE(r.has_value());
    auto c = parse_command(*r);
    REQUIRE(c.has_value());
    CHECK(std::get<Adjust>(c->action).reason == "换表");
}

TEST_CASE("an hmac of the wrong length or with non-hex digits is refused") {
    const std::string good = hmac_sha256_hex(kKey, kTopUpBody);
    for (const std::string& hmac : {good.substr(0, 63), good + "0", std::string(), good + good}) {
        const auto r = refused(envelope(kTopUpBody, hmac));
        CHECK(contains(r.reason, "64 hex digits"));
        CHECK(r.id == std::optional<std::string>("c-7f3a"));
        CHECK_FALSE(r.authenticated);
    }
    std::string nonhex = good;
    nonhex[63] = 'g';
    CHECK(contains(refused(envelope(kTopUpBody, nonhex)).reason, "64 hex digits"));
    nonhex = good;
    nonhex[0] = ' ';
    CHECK(contains(refused(envelope(kTopUpBody, nonhex)).reason, "64 hex digits"));
}

TEST_CASE("without a key every command is refused") {
    const auto r = refused(signed_envelope(kTopUpBody, ""), kNow, {}, "");
    CHECK(contains(r.reason, "no command key"));
    CHECK_FALSE(r.authenticated);
}

TEST_CASE("a malformed envelope is refused without an id") {
    for (const std::string payload : {"", "{", "not json", R"({"body":"x","hmac":"y",})",
                                      "{\"body\":\"x\"} trailing", "{'body':'x'}", "\xff\xfe"}) {
        const auto r = refused(payload);
        CHECK(contains(r.reason, "envelope is not valid JSON"));
        CHECK_FALSE(r.id.has_value());
    }
}

TEST_CASE("an envelope that is not an object is refused") {
    for (const std::string payload : {"[]", "null", "42", R"("body")", "true"}) {
        const auto r = refused(payload);
        CHECK(contains(r.reason, "must be a JSON object"));
        CHECK_FALSE(r.id.has_value());
    }
}

TEST_CASE("an envelope has exactly the string fields body and hmac") {
    const std::string hmac = hmac_sha256_hex(kKey, kTopUpBody);
    SUBCASE("an extra field") {
        json e{{"body", kTopUpBody}, {"hmac", hmac}, {"gateway", "gw-0001"}};
        const auto r = refused(e.dump());
        CHECK(contains(r.reason, "unexpected envelope field \"gateway\""));
    }
    SUBCASE("no body") {
        CHECK(contains(refused(json{{"hmac", hmac}}.dump()).reason, "no \"body\""));
    }
    SUBCASE("no hmac: refused, naming the unauthenticated id") {
        const auto r = refused(json{{"body", kTopUpBody}}.dump());
        CHECK(contains(r.reason, "no \"hmac\""));
        CHECK(r.id == std::optional<std::string>("c-7f3a"));
        CHECK_FALSE(r.authenticated);
    }
    SUBCASE("the body as an object instead of a JSON text") {
        json e{{"body", json::parse(kTopUpBody)}, {"hmac", hmac}};
        const auto r = refused(e.dump());
        CHECK(contains(r.reason, "body must be a string"));
        CHECK(contains(r.reason, "found object"));
    }
    SUBCASE("hmac not a string") {
        json e{{"body", kTopUpBody}, {"hmac", 12}};
        CHECK(contains(refused(e.dump()).reason, "hmac must be a string"));
    }
    SUBCASE("a repeated key") {
        const std::string payload =
            R"({"body":"x","hmac":")" + hmac + R"(","body":)" + json(kTopUpBody).dump() + "}";
        CHECK(contains(refused(payload).reason, "appears twice"));
    }
}

TEST_CASE("the payload's size is limited") {
    const std::string good = signed_envelope(kTopUpBody);
    SUBCASE("at the limit it is read") {
        const std::string padded = good + std::string(kMaxCommandPayload - good.size(), ' ');
        REQUIRE(padded.size() == kMaxCommandPayload);
        CHECK(verify_command(padded, kKey, kNow).has_value());
    }
    SUBCASE("one byte more is refused, named by its unauthenticated id") {
        const std::string padded = good + std::string(kMaxCommandPayload + 1 - good.size(), ' ');
        const auto r = refused(padded);
        CHECK(contains(r.reason, "too large"));
        CHECK(contains(r.reason, "65537 bytes"));
        CHECK(contains(r.reason, "65536"));
        REQUIRE(r.id.has_value());
        CHECK(*r.id == "c-7f3a");
        CHECK_FALSE(r.authenticated);
    }
    SUBCASE("a big signed body is refused too, its id read but not authenticated") {
        const std::string body = R"({"id":"c-9","issued_at":"2026-11-24T08:00:00Z","pad":")" +
                                 std::string(70000, 'x') + "\"}";
        const auto r = refused(signed_envelope(body));
        CHECK(contains(r.reason, "more than the limit"));
        REQUIRE(r.id.has_value());
        CHECK(*r.id == "c-9");
        CHECK_FALSE(r.authenticated);
    }
    SUBCASE("a payload too large to read at all is refused without an id") {
        const std::string body = R"({"id":"c-9","issued_at":"2026-11-24T08:00:00Z","pad":")" +
                                 std::string(kMaxCommandPayloadRead, 'x') + "\"}";
        const auto r = refused(signed_envelope(body));
        CHECK(contains(r.reason, "not read"));
        CHECK_FALSE(r.id.has_value());
    }
    SUBCASE("a too large payload that is not an envelope is refused without an id") {
        CHECK_FALSE(refused(std::string(kMaxCommandPayload + 1, 'x')).id.has_value());
        const std::string no_body = R"({"hmac":"00","x":")" + std::string(70000, 'x') + "\"}";
        CHECK_FALSE(refused(no_body).id.has_value());
    }
    SUBCASE("the limit is an option") {
        VerifyOptions small;
        small.max_payload = 100;
        CHECK(contains(refused(good, kNow, small).reason, "more than the limit of 100"));
    }
}

// --- the body ----------------------------------------------------------------------------

TEST_CASE("a signed body that is not JSON or not an object is refused without an id") {
    for (const std::string body : {"", "nonsense", "{\"id\":\"c-1\"", "{\"id\":\"c-1\"} x"}) {
        const auto r = refused(signed_envelope(body));
        CHECK(contains(r.reason, "body is not valid JSON"));
        CHECK_FALSE(r.id.has_value());
    }
    for (const std::string body : {"[1,2]", "\"c-1\"", "42", "null"}) {
        const auto r = refused(signed_envelope(body));
        CHECK(contains(r.reason, "body must be a JSON object"));
        CHECK_FALSE(r.id.has_value());
    }
}

TEST_CASE("a body nested too deep or with a repeated key is refused") {
    const std::string deep = R"({"id":"c-1","issued_at":"2026-11-24T08:00:00Z","x":)" +
                             std::string(100, '[') + std::string(100, ']') + "}";
    CHECK(contains(refused(signed_envelope(deep)).reason, "nested deeper"));
    const std::string twice = R"({"id":"c-1","issued_at":"2026-11-24T08:00:00Z","id":"c-2"})";
    CHECK(contains(refused(signed_envelope(twice)).reason, "\"id\" appears twice"));
}

TEST_CASE("the body's id is required and checked") {
    const std::string at = R"("issued_at":"2026-11-24T08:00:00Z")";
    CHECK(contains(refused(signed_envelope("{" + at + "}")).reason, "no \"id\""));
    CHECK(contains(refused(signed_envelope(R"({"id":7,)" + at + "}")).reason,
                   "id must be a string, found number"));
    for (const std::string& id : {std::string(), std::string("c 1"), std::string("c\t1"),
                                  std::string(129, 'a'), std::string("c-\xc3\xa9")}) {
        const std::string body = json{{"id", id}, {"issued_at", "2026-11-24T08:00:00Z"}}.dump();
        const auto r = refused(signed_envelope(body));
        CHECK(contains(r.reason, "id must be 1 to 128 printable ASCII characters"));
        CHECK_FALSE(r.id.has_value());
    }
    const std::string longest(128, '~');
    CHECK(verified(json{{"id", longest}, {"issued_at", "2026-11-24T08:00:00Z"}}.dump()).id ==
          longest);
    CHECK(is_valid_command_id("c-7f3a"));
    CHECK(is_valid_command_id("!"));
    CHECK_FALSE(is_valid_command_id("a\x7f"));
}

TEST_CASE("issued_at is required; the refusal names the authenticated id") {
    auto r = refused(signed_envelope(R"({"id":"c-5"})"));
    CHECK(contains(r.reason, "no \"issued_at\""));
    CHECK(r.id == std::optional<std::string>("c-5"));
    CHECK(r.authenticated);

    r = refused(signed_envelope(R"({"id":"c-5","issued_at":1795507200})"));
    CHECK(contains(r.reason, "issued_at must be a string"));
    CHECK(r.authenticated);

    r = refused(signed_envelope(R"({"id":"c-5","issued_at":"2026-11-24 08:00:00"})"));
    CHECK(contains(r.reason, "issued_at: expected an RFC 3339 time"));
    CHECK(r.id == std::optional<std::string>("c-5"));
    CHECK(r.authenticated);
}

TEST_CASE("a command outside the freshness window is refused") {
    const auto at = [](const std::string& time) {
        return signed_envelope(R"({"id":"c-6","issued_at":")" + time + R"("})");
    };
    SUBCASE("at the window's edges it is accepted") {
        CHECK(verify_command(at("2026-11-24T07:55:00Z"), kKey, kNow).has_value());
        CHECK(verify_command(at("2026-11-24T08:05:00Z"), kKey, kNow).has_value());
        CHECK(verify_command(at("2026-11-24T16:04:59.999+08:00"), kKey, kNow).has_value());
    }
    SUBCASE("too old") {
        const auto r = refused(at("2026-11-24T07:54:59.999Z"));
        CHECK(contains(r.reason, "stale"));
        CHECK(contains(r.reason, "300.001 s before"));
        CHECK(contains(r.reason, "window is 300 s"));
        CHECK(r.id == std::optional<std::string>("c-6"));
        CHECK(r.authenticated);
        CHECK(contains(refused(at("2020-01-01T00:00:00Z")).reason, "stale"));
    }
    SUBCASE("too far in the future") {
        const auto r = refused(at("2026-11-24T08:05:01Z"));
        CHECK(contains(r.reason, "301 s after the gateway's time"));
        CHECK(r.authenticated);
        CHECK(contains(refused(at("9999-12-31T23:59:59Z")).reason, "after"));
    }
    SUBCASE("the window is an option") {
        VerifyOptions narrow;
        narrow.window_ms = 10'000;
        CHECK(contains(refused(at("2026-11-24T07:59:49Z"), kNow, narrow).reason, "window is 10 s"));
        CHECK(verify_command(at("2026-11-24T07:59:50Z"), kKey, kNow, narrow).has_value());
        VerifyOptions none;
        none.window_ms = 0;
        CHECK(verify_command(at("2026-11-24T08:00:00Z"), kKey, kNow, none).has_value());
        CHECK_FALSE(verify_command(at("2026-11-24T08:00:00.001Z"), kKey, kNow, none).has_value());
    }
    SUBCASE("an absurd gateway time does not overflow") {
        CHECK(contains(refused(at("2026-11-24T08:00:00Z"), INT64_MAX).reason, "stale"));
        CHECK(contains(refused(at("2026-11-24T08:00:00Z"), INT64_MIN).reason, "after"));
        VerifyOptions wide;
        wide.window_ms = INT64_MAX;
        CHECK(verify_command(at("0000-01-01T00:00:00Z"), kKey, kNow, wide).has_value());
    }
}

// --- RFC 3339 ----------------------------------------------------------------------------

TEST_CASE("RFC 3339 times are read to UTC milliseconds") {
    const auto ms = [](const char* text) {
        INFO(text);
        auto r = parse_rfc3339_ms(text);
        if (!r) FAIL_CHECK(r.error().message);
        REQUIRE(r.has_value());
        return *r;
    };
    CHECK(ms("2026-11-24T08:00:00Z") == kNow);
    CHECK(ms("2026-11-24t08:00:00z") == kNow);
    CHECK(ms("2026-11-24T16:00:00+08:00") == kNow);
    CHECK(ms("2026-11-24T02:30:00-05:30") == kNow);
    CHECK(ms("2026-11-24T08:00:00+00:00") == kNow);
    CHECK(ms("2026-11-24T08:00:00-00:00") == kNow);
    CHECK(ms("2026-11-24T08:00:00.5Z") == kNow + 500);
    CHECK(ms("2026-11-24T08:00:00.25Z") == kNow + 250);
    CHECK(ms("2026-11-24T08:00:00.123Z") == kNow + 123);
    CHECK(ms("2026-11-24T08:00:00.123456789Z") == kNow + 123);
    CHECK(ms("2026-11-24T16:00:00.999+08:00") == kNow + 999);
    CHECK(ms("1970-01-01T00:00:00Z") == 0);
    CHECK(ms("1969-12-31T23:59:59.5Z") == -500);
    CHECK(ms("2024-02-29T23:59:59Z") == 1709251199000);
    CHECK(ms("2000-02-29T00:00:00Z") == 951782400000);
    CHECK(ms("2016-12-31T23:59:60Z") == 1483228800000);  // a leap second
    CHECK(ms("0000-01-01T00:00:00Z") == -62167219200000);
}

TEST_CASE("malformed RFC 3339 times are refused") {
    for (const char* text : {
             "",
             "2026-11-24",
             "2026-11-24T08:00Z",
             "2026-11-24T08:00:00",
             "2026-11-24 08:00:00Z",
             "2026-11-24T08:00:00+0800",
             "2026-11-24T08:00:00+08",
             "2026-11-24T08:00:00.Z",
             "2026-11-24T08:00:00.1234567890Z",
             "2026-11-24T08:00:00ZZ",
             "2026-11-24T08:00:00Z ",
             " 2026-11-24T08:00:00Z",
             "26-11-24T08:00:00Z",
             "2026-1-24T08:00:00Z",
             "+2026-11-24T08:00:00Z",
             "2026-11-24T8:00:00Z",
             "2026-11-24T08:00:00,5Z",
             "2026/11/24T08:00:00Z",
             "2026-11-24T08:00:00UTC",
         }) {
        INFO(text);
        auto r = parse_rfc3339_ms(text);
        REQUIRE_FALSE(r.has_value());
        CHECK(contains(r.error().message, "RFC 3339"));
    }
    for (const char* text : {
             "2026-13-01T00:00:00Z",
             "2026-00-01T00:00:00Z",
             "2026-02-29T00:00:00Z",
             "1900-02-29T00:00:00Z",
             "2026-04-31T00:00:00Z",
             "2026-11-00T00:00:00Z",
             "2026-11-24T24:00:00Z",
             "2026-11-24T08:60:00Z",
             "2026-11-24T08:00:61Z",
             "2026-11-24T08:00:00+24:00",
             "2026-11-24T08:00:00+08:60",
         }) {
        INFO(text);
        auto r = parse_rfc3339_ms(text);
        REQUIRE_FALSE(r.has_value());
        CHECK((contains(r.error().message, "not a valid date") ||
               contains(r.error().message, "offset")));
    }
}

// --- the key file ------------------------------------------------------------------------

TEST_CASE("the command key is the key file's trimmed content") {
    TempDir dir;
    auto key = read_command_key(dir.write("key", "  s3cret key\t\r\n\n"));
    REQUIRE(key.has_value());
    CHECK(*key == "s3cret key");

    key = read_command_key(dir.write("plain", "abc"));
    REQUIRE(key.has_value());
    CHECK(*key == "abc");

    const auto missing = dir.path / "missing";
    key = read_command_key(missing);
    REQUIRE_FALSE(key.has_value());
    CHECK(contains(key.error().message, missing.string()));

    for (const std::string content : {"", " \n\t\r\n"}) {
        const auto file = dir.write("empty", content);
        key = read_command_key(file);
        REQUIRE_FALSE(key.has_value());
        CHECK(contains(key.error().message, file.string()));
        CHECK(contains(key.error().message, "empty"));
    }

    key = read_command_key(dir.path);
    REQUIRE_FALSE(key.has_value());
    CHECK(contains(key.error().message, "directory"));

    key = read_command_key(dir.write("huge", std::string(100'000, 'k')));
    REQUIRE_FALSE(key.has_value());
    CHECK(contains(key.error().message, "larger than"));
}

// --- typed commands ----------------------------------------------------------------------

TEST_CASE("every command type is parsed") {
    CHECK(known_command_types().size() == 14);

    const auto adjust = std::get<Adjust>(
        parsed("adjust", {{"account", "A-1"}, {"amount_fen", -250}, {"reason", "meter swap"}})
            .action);
    CHECK(adjust.account == "A-1");
    CHECK(adjust.amount_fen == -250);
    CHECK(adjust.reason == "meter swap");

    const auto refund = std::get<Refund>(
        parsed("refund", {{"account", "A_2"}, {"amount_fen", 100000000}, {"txn", "ali-9"}}).action);
    CHECK(refund.account == "A_2");
    CHECK(refund.amount_fen == 100000000);
    CHECK(refund.txn == "ali-9");

    const json tariff = {{"id", "res"}, {"price_fen_per_kwh", 56}};
    CHECK(std::get<TariffSet>(parsed("tariff_set", {{"tariff", tariff}}).action).tariff == tariff);
    const json versions = json::array({tariff, tariff});
    CHECK(std::get<TariffSet>(parsed("tariff_set", {{"tariff", versions}}).action).tariff ==
          versions);

    const json account = {{"id", "A-3"}, {"tariff", "res"}};
    CHECK(std::get<AccountSet>(parsed("account_set", {{"account", account}}).action).account ==
          account);
    CHECK(std::get<AccountRemove>(parsed("account_remove", {{"account", "A-3"}}).action).account ==
          "A-3");

    const json meter = {{"id", "m-1"}, {"bus", "rs485-1"}};
    CHECK(std::get<MeterSet>(parsed("meter_set", {{"meter", meter}}).action).meter == meter);
    CHECK(std::get<MeterRemove>(parsed("meter_remove", {{"meter", "m-1"}}).action).meter == "m-1");

    for (const auto& [name, state] :
         {std::pair{"on", ForcedSupply::On}, std::pair{"off", ForcedSupply::Off},
          std::pair{"none", ForcedSupply::None}}) {
        const auto force = std::get<SupplyForce>(
            parsed("supply_force", {{"meter", "m-1"}, {"state", name}}).action);
        CHECK(force.meter == "m-1");
        CHECK(force.state == state);
        CHECK(forced_supply_name(force.state) == name);
    }

    for (const bool on : {true, false}) {
        const auto keep =
            std::get<KeepPower>(parsed("keep_power", {{"account", "A-1"}, {"on", on}}).action);
        CHECK(keep.account == "A-1");
        CHECK(keep.on == on);
    }
    CHECK_FALSE(
        std::get<KeepPower>(parsed("keep_power", {{"account", "A-1"}, {"on", nullptr}}).action)
            .on.has_value());

    CHECK(std::get<EmergencyCredit>(parsed("emergency_credit", {{"account", "A-1"}}).action)
              .account == "A-1");
    CHECK(std::get<ReadNow>(parsed("read_now", {{"meter", "m-1"}}).action).meter == "m-1");
    CHECK(std::holds_alternative<TimeSync>(parsed("time_sync").action));
    CHECK(std::holds_alternative<ConfigReload>(parsed("config_reload").action));

    const auto topup = std::get<TopUp>(
        parsed("topup", {{"account", "A-1"}, {"amount_fen", 1}, {"txn", std::string(128, 'T')}})
            .action);
    CHECK(topup.amount_fen == 1);
}

TEST_CASE("the command type is required and must be known") {
    auto c = parse_command(verified(R"({"id":"c-1","issued_at":"2026-11-24T08:00:00Z"})"));
    REQUIRE_FALSE(c.has_value());
    CHECK(contains(c.error().message, "no \"type\""));

    c = parse_command(verified(R"({"id":"c-1","issued_at":"2026-11-24T08:00:00Z","type":1})"));
    REQUIRE_FALSE(c.has_value());
    CHECK(contains(c.error().message, "type must be a string, found number"));

    const std::string reason = invalid("top_up");
    CHECK(contains(reason, "unknown command type \"top_up\""));
    for (const auto type : known_command_types()) CHECK(contains(reason, std::string(type)));

    uplink::VerifiedCommand not_object{"c-1", kNow, json::array()};
    CHECK_FALSE(parse_command(not_object).has_value());
}

TEST_CASE("a field the type does not have is refused") {
    const std::string reason =
        invalid("topup", {{"account", "A-1"}, {"ammount_fen", 5}, {"amount_fen", 5}, {"txn", "t"}});
    CHECK(contains(reason, "unknown field \"ammount_fen\" in a topup command"));
    CHECK(contains(reason, "account, amount_fen, txn"));
    CHECK(contains(invalid("time_sync", {{"meter", "m-1"}}), "unknown field \"meter\""));
}

TEST_CASE("money amounts are integer fen within limits") {
    const auto topup = [](json amount) {
        return invalid("topup", {{"account", "A-1"}, {"amount_fen", amount}, {"txn", "t-1"}});
    };
    CHECK(contains(topup("10000"), "amount_fen must be an integer, found string"));
    CHECK(contains(topup(nullptr), "amount_fen must be an integer, found null"));
    CHECK(contains(topup(true), "amount_fen must be an integer, found boolean"));
    CHECK(contains(topup(100.5), "amount_fen must be an integer number of fen"));
    CHECK(contains(topup(100.0), "amount_fen must be an integer number of fen"));
    CHECK(contains(topup(0), "amount_fen must be positive, found 0"));
    CHECK(contains(topup(-100), "amount_fen must be positive, found -100"));
    CHECK(contains(topup(100000001), "absurd amount"));
    CHECK(contains(topup(100000001), "100000000 fen (1,000,000 yuan)"));
    CHECK(contains(topup(std::uint64_t{18446744073709551615u}), "absurd amount"));
    CHECK(contains(topup(INT64_MIN), "absurd amount"));
    CHECK(
        contains(invalid("topup", {{"account", "A-1"}, {"txn", "t-1"}}), "amount_fen is missing"));

    // A number too big for 64 bits is read as floating point: still not an integer.
    auto c = parse_command(verified(
        R"({"id":"c-1","issued_at":"2026-11-24T08:00:00Z","type":"topup","account":"A-1","amount_fen":100000000000000000000000,"txn":"t"})"));
    REQUIRE_FALSE(c.has_value());
    CHECK(contains(c.error().message, "integer number of fen"));
    c = parse_command(verified(
        R"({"id":"c-1","issued_at":"2026-11-24T08:00:00Z","type":"topup","account":"A-1","amount_fen":1e4,"txn":"t"})"));
    REQUIRE_FALSE(c.has_value());
    CHECK(contains(c.error().message, "integer number of fen"));

    const auto refund = [](json amount) {
        return invalid("refund", {{"account", "A-1"}, {"amount_fen", amount}, {"txn", "t-1"}});
    };
    CHECK(contains(refund(0), "must be positive"));
    CHECK(contains(refund(-1), "must be positive"));
    CHECK(contains(refund(100000001), "absurd amount"));

    const auto adjust = [](json amount) {
        return invalid("adjust", {{"account", "A-1"}, {"amount_fen", amount}, {"reason", "r"}});
    };
    CHECK(contains(adjust(0), "amount_fen must not be zero"));
    CHECK(contains(adjust(-100000001), "absurd amount"));
    CHECK(contains(adjust(100000001), "absurd amount"));
    CHECK(contains(adjust("5"), "must be an integer, found string"));
    CHECK(std::get<Adjust>(
              parsed("adjust", {{"account", "A-1"}, {"amount_fen", -100000000}, {"reason", "r"}})
                  .action)
              .amount_fen == -100000000);
}

TEST_CASE("ids, txns and reasons are checked") {
    const auto topup = [](json account, json txn) {
        return invalid("topup", {{"account", account}, {"amount_fen", 100}, {"txn", txn}});
    };
    CHECK(contains(topup("", "t"), "account must be 1 to 64 characters"));
    CHECK(contains(topup(std::string(65, 'a'), "t"), "account must be 1 to 64 characters"));
    CHECK(contains(topup("A 1", "t"), "found \"A 1\""));
    CHECK(contains(topup("A/1", "t"), "account must be"));
    CHECK(contains(topup(101, "t"), "account must be a string, found number"));
    CHECK(contains(topup("A-1", ""), "txn must be 1 to 128 printable ASCII"));
    CHECK(contains(topup("A-1", std::string(129, 't')), "txn must be 1 to 128"));
    CHECK(contains(topup("A-1", "wx 42"), "txn must be 1 to 128"));
    CHECK(contains(topup("A-1", 4200001234), "txn must be a string, found number"));
    CHECK(contains(invalid("topup", {{"account", "A-1"}, {"amount_fen", 100}}), "txn is missing"));
    CHECK(contains(invalid("topup", {{"amount_fen", 100}, {"txn", "t"}}), "account is missing"));

    // A long value is cut short in the reason.
    const std::string reason = topup(std::string(500, 'x'), "t");
    CHECK(reason.size() < 200);

    const auto adjust = [](json why) {
        return invalid("adjust", {{"account", "A-1"}, {"amount_fen", 5}, {"reason", why}});
    };
    CHECK(
        contains(invalid("adjust", {{"account", "A-1"}, {"amount_fen", 5}}), "reason is missing"));
    CHECK(contains(adjust(""), "reason must be 1 to 256 bytes"));
    CHECK(contains(adjust(std::string(257, 'r')), "reason must be 1 to 256 bytes"));
    CHECK(contains(adjust("line\nbreak"), "control characters"));
    CHECK(contains(adjust(false), "reason must be a string, found boolean"));

    CHECK(contains(invalid("meter_remove", {{"meter", "m.1"}}), "meter must be 1 to 64"));
    CHECK(contains(invalid("read_now"), "meter is missing"));
    CHECK(contains(invalid("account_remove", {{"account", json::array()}}),
                   "account must be a string, found array"));
    CHECK(contains(invalid("emergency_credit", {{"account", ""}}), "account must be"));
}

TEST_CASE("the other commands' fields are checked") {
    CHECK(contains(invalid("supply_force", {{"meter", "m-1"}, {"state", "ON"}}),
                   "state must be \"on\", \"off\" or \"none\", found \"ON\""));
    CHECK(contains(invalid("supply_force", {{"meter", "m-1"}, {"state", true}}),
                   "state must be a string, found boolean"));
    CHECK(contains(invalid("supply_force", {{"meter", "m-1"}}), "state is missing"));
    CHECK(contains(invalid("keep_power", {{"account", "A-1"}, {"on", "true"}}),
                   "on must be true, false or null, found string"));
    CHECK(contains(invalid("keep_power", {{"account", "A-1"}, {"on", 1}}),
                   "on must be true, false or null, found number"));
    CHECK(contains(invalid("keep_power", {{"account", "A-1"}}), "on is missing"));
    CHECK(contains(invalid("tariff_set", {{"tariff", "res"}}),
                   "tariff must be an object, found string"));
    CHECK(contains(invalid("tariff_set", {{"tariff", json::object()}}), "empty object"));
    CHECK(contains(invalid("tariff_set"), "tariff is missing"));
    CHECK(contains(invalid("tariff_set", {{"tariff", json::array()}}), "empty array"));
    CHECK(contains(invalid("tariff_set", {{"tariff", json::array({json::object()})}}),
                   "versions must be non-empty objects"));
    CHECK(contains(invalid("account_set", {{"account", "A-1"}}),
                   "account must be an object, found string"));
    CHECK(contains(invalid("meter_set", {{"meter", json::array()}}),
                   "meter must be an object, found array"));
}

// --- acknowledgements --------------------------------------------------------------------

TEST_CASE("acknowledgement bodies") {
    CHECK(ack_ok("c-7f3a") == R"({"id":"c-7f3a","ok":true})");
    CHECK(ack_error("c-7f3a", "unknown account \"A-9\"") ==
          R"({"id":"c-7f3a","ok":false,"error":"unknown account \"A-9\""})");
    // Text that is not UTF-8 is replaced, never thrown over.
    std::string text;
    CHECK_NOTHROW(text = ack_error("c-1", "bad \xff byte"));
    CHECK(json::accept(text));
    CHECK(json::parse(text)["ok"] == false);

    // The reason of a refusal goes into the acknowledgement as it is.
    std::string hmac = hmac_sha256_hex(kKey, kTopUpBody);
    hmac[0] = hmac[0] == 'a' ? 'b' : 'a';
    const auto r = refused(envelope(kTopUpBody, hmac));
    const json ack = json::parse(ack_error(*r.id, r.reason));
    CHECK(ack["id"] == "c-7f3a");
    CHECK(ack["error"] == r.reason);
}
