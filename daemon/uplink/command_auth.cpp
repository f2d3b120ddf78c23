#include "uplink/command_auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <system_error>
#include <utility>
#include <vector>

#include "ecmgw/prepaid/calendar.hpp"

namespace ecmgw::uplink {

namespace {

using nlohmann::json;

constexpr std::size_t kDigestSize = 32;
using Digest = std::array<unsigned char, kDigestSize>;

// A key file holds one line; the cap stops a wrong path such as /dev/zero.
constexpr std::size_t kMaxKeyFileBytes = 64 * 1024;

// "300 s", "0.250 s".
std::string seconds_text(std::int64_t ms) {
    std::string text = std::to_string(ms / 1000);
    if (const std::int64_t rest = ms % 1000; rest != 0) {
        std::string frac = std::to_string(rest < 0 ? -rest : rest);
        text += '.' + std::string(3 - frac.size(), '0') + frac;
    }
    return text + " s";
}

// JSON as the contract wants it: RFC 8259, no repeated keys in an object (the
// cloud's parser might keep the other one), at most kMaxCommandJsonDepth levels.
// Returns the value, or nullopt with `reason` set.
std::optional<json> parse_strict(std::string_view text, std::string& reason) {
    std::vector<std::set<std::string>> keys;  // one set per open object
    std::optional<std::string> duplicate;
    bool too_deep = false;
    const json::parser_callback_t check = [&](int depth, json::parse_event_t event, json& parsed) {
        switch (event) {
            case json::parse_event_t::object_start:
                if (depth >= kMaxCommandJsonDepth) too_deep = true;
                keys.emplace_back();
                break;
            case json::parse_event_t::object_end:
                if (!keys.empty()) keys.pop_back();
                break;
            case json::parse_event_t::array_start:
                if (depth >= kMaxCommandJsonDepth) too_deep = true;
                break;
            case json::parse_event_t::key:
                if (!keys.empty() && parsed.is_string() &&
                    !keys.back().insert(parsed.get<std::string>()).second && !duplicate) {
                    duplicate = parsed.get<std::string>();
                }
                break;
            default:
                break;
        }
        return true;
    };
    json value;
    try {
        value = json::parse(text.begin(), text.end(), check);
    } catch (const json::parse_error& e) {
        reason = "not valid JSON (at byte " + std::to_string(e.byte) + ")";
        return std::nullopt;
    } catch (const json::exception&) {
        reason = "not valid JSON";
        return std::nullopt;
    }
    if (too_deep) {
        reason = "nested deeper than " + std::to_string(kMaxCommandJsonDepth) + " levels";
        return std::nullopt;
    }
    if (duplicate) {
        reason = "the key " + quote_text(*duplicate) + " appears twice in one object";
        return std::nullopt;
    }
    return value;
}

std::optional<Digest> hmac_sha256(std::string_view key, std::string_view bytes) {
    // OpenSSL wants non-null pointers even for empty input.
    static const unsigned char kNothing = 0;
    const void* key_ptr = key.empty() ? static_cast<const void*>(&kNothing) : key.data();
    const unsigned char* data_ptr =
        bytes.empty() ? &kNothing : reinterpret_cast<const unsigned char*>(bytes.data());
    if (key.size() > static_cast<std::size_t>(INT32_MAX)) return std::nullopt;
    Digest out{};
    unsigned int length = 0;
    if (HMAC(EVP_sha256(), key_ptr, static_cast<int>(key.size()), data_ptr, bytes.size(),
             out.data(), &length) == nullptr ||
        length != kDigestSize) {
        return std::nullopt;
    }
    return out;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::optional<Digest> decode_hex_digest(std::string_view hex) {
    if (hex.size() != 2 * kDigestSize) return std::nullopt;
    Digest out{};
    for (std::size_t i = 0; i < kDigestSize; ++i) {
        const int hi = hex_value(hex[2 * i]);
        const int lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out[i] = static_cast<unsigned char>(hi << 4 | lo);
    }
    return out;
}

// The id of a body that was not (or could not be) authenticated, for the refusal's
// acknowledgement.
std::optional<std::string> unauthenticated_id(std::string_view body) {
    std::string ignored;
    const auto parsed = parse_strict(body, ignored);
    if (!parsed || !parsed->is_object()) return std::nullopt;
    const auto it = parsed->find("id");
    if (it == parsed->end() || !it->is_string()) return std::nullopt;
    const auto& id = it->get_ref<const std::string&>();
    if (!is_valid_command_id(id)) return std::nullopt;
    return id;
}

// The unauthenticated id of a payload too large to be checked, for the refusal's
// acknowledgement: the envelope is parsed, nothing else is.
std::optional<std::string> oversized_id(std::string_view payload) {
    std::string ignored;
    const auto envelope = parse_strict(payload, ignored);
    if (!envelope || !envelope->is_object()) return std::nullopt;
    const auto body = envelope->find("body");
    if (body == envelope->end() || !body->is_string()) return std::nullopt;
    return unauthenticated_id(body->get_ref<const std::string&>());
}

Unexpected<Rejection> reject(std::string reason, std::optional<std::string> id = std::nullopt,
                             bool authenticated = false) {
    return unexpected(Rejection{std::move(id), authenticated, std::move(reason)});
}

}  // namespace

bool is_valid_command_id(std::string_view id) {
    if (id.empty() || id.size() > kMaxCommandIdLength) return false;
    for (const char c : id) {
        if (c <= 0x20 || c > 0x7e) return false;
    }
    return true;
}

Expected<std::int64_t> parse_rfc3339_ms(std::string_view text) {
    const auto bad_format = [&] {
        return fail(
            "expected an RFC 3339 time such as \"2026-11-24T08:00:00Z\" or "
            "\"2026-11-24T16:00:00.250+08:00\", found " +
            quote_text(text));
    };
    std::size_t i = 0;
    const auto number = [&](std::size_t width, int& out) {
        if (text.size() - i < width) return false;
        int v = 0;
        for (std::size_t k = 0; k < width; ++k) {
            const char c = text[i + k];
            if (c < '0' || c > '9') return false;
            v = v * 10 + (c - '0');
        }
        i += width;
        out = v;
        return true;
    };
    const auto literal = [&](char lower, char upper) {
        if (i >= text.size() || (text[i] != lower && text[i] != upper)) return false;
        ++i;
        return true;
    };
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (!number(4, year) || !literal('-', '-') || !number(2, month) || !literal('-', '-') ||
        !number(2, day) || !literal('t', 'T') || !number(2, hour) || !literal(':', ':') ||
        !number(2, minute) || !literal(':', ':') || !number(2, second)) {
        return bad_format();
    }
    int millis = 0;
    if (literal('.', '.')) {
        std::size_t digits = 0;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
            if (digits < 3) millis = millis * 10 + (text[i] - '0');
            ++digits;
            ++i;
        }
        if (digits == 0 || digits > 9) return bad_format();
        for (std::size_t k = digits; k < 3; ++k) millis *= 10;
    }
    int offset_minutes = 0;
    if (!literal('z', 'Z')) {
        if (i >= text.size() || (text[i] != '+' && text[i] != '-')) return bad_format();
        const int sign = text[i] == '-' ? -1 : 1;
        ++i;
        int oh = 0, om = 0;
        if (!number(2, oh) || !literal(':', ':') || !number(2, om)) return bad_format();
        if (oh > 23 || om > 59)
            return fail("the UTC offset of " + quote_text(text) + " is out of range");
        offset_minutes = sign * (oh * 60 + om);
    }
    if (i != text.size()) return bad_format();
    if (month < 1 || month > 12 || day < 1 || day > prepaid::days_in_month(year, month) ||
        hour > 23 || minute > 59 || second > 60) {
        return fail(quote_text(text) + " is not a valid date and time");
    }
    const std::int64_t days = prepaid::days_from_civil(year, month, day);
    const std::int64_t seconds =
        days * 86400 + hour * 3600 + minute * 60 + second - std::int64_t{offset_minutes} * 60;
    return seconds * 1000 + millis;
}

std::string hmac_sha256_hex(std::string_view key, std::string_view bytes) {
    const auto digest = hmac_sha256(key, bytes);
    if (!digest) return {};
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(2 * kDigestSize);
    for (const unsigned char b : *digest) {
        out += kHex[b >> 4];
        out += kHex[b & 0x0f];
    }
    return out;
}

Expected<std::string> read_command_key(const std::filesystem::path& path) {
    const std::string where = "command key file " + path.string();
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (ec || !std::filesystem::exists(status)) {
        return fail(where +
                    " cannot be read: " + (ec ? ec.message() : std::string("it does not exist")));
    }
    if (std::filesystem::is_directory(status)) return fail(where + " is a directory");
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(where + " cannot be opened: " + std::strerror(errno));
    std::string content(kMaxKeyFileBytes + 1, '\0');
    in.read(content.data(), static_cast<std::streamsize>(content.size()));
    if (in.bad()) return fail(where + " cannot be read: " + std::strerror(errno));
    content.resize(static_cast<std::size_t>(in.gcount()));
    if (content.size() > kMaxKeyFileBytes) {
        return fail(where + " is larger than " + std::to_string(kMaxKeyFileBytes) +
                    " bytes; it should hold the key, one line of text");
    }
    constexpr std::string_view kSpace = " \t\r\n\v\f";
    const auto first = content.find_first_not_of(kSpace);
    if (first == std::string::npos) return fail(where + " is empty");
    const auto last = content.find_last_not_of(kSpace);
    return content.substr(first, last - first + 1);
}

Expected<VerifiedCommand, Rejection> verify_command(std::string_view payload, std::string_view key,
                                                    std::int64_t now_ms,
                                                    const VerifyOptions& options) {
    if (payload.size() > options.max_payload) {
        std::string reason = "the command is too large: the payload is " +
                             std::to_string(payload.size()) + " bytes, more than the limit of " +
                             std::to_string(options.max_payload) + " bytes";
        if (payload.size() > options.max_read) return reject(reason + " (not read)");
        return reject(std::move(reason), oversized_id(payload));
    }
    std::string why;
    const auto envelope = parse_strict(payload, why);
    if (!envelope) return reject("the envelope is " + why);
    if (!envelope->is_object()) {
        return reject(std::string("the envelope must be a JSON object {\"body\": …, \"hmac\": …}, "
                                  "found ") +
                      envelope->type_name());
    }
    for (const auto& [name, value] : envelope->items()) {
        if (name != "body" && name != "hmac") {
            return reject("unexpected envelope field " + quote_text(name) +
                          " (an envelope has exactly \"body\" and \"hmac\")");
        }
    }
    const auto body_it = envelope->find("body");
    if (body_it == envelope->end()) return reject("the envelope has no \"body\"");
    if (!body_it->is_string()) {
        return reject(std::string("the envelope's body must be a string (the command as a JSON "
                                  "text), found ") +
                      body_it->type_name());
    }
    const auto& body = body_it->get_ref<const std::string&>();
    const auto hmac_it = envelope->find("hmac");
    if (hmac_it == envelope->end()) {
        return reject("the envelope has no \"hmac\"", unauthenticated_id(body));
    }
    if (!hmac_it->is_string()) {
        return reject(std::string("the envelope's hmac must be a string of 64 hex digits, found ") +
                          hmac_it->type_name(),
                      unauthenticated_id(body));
    }
    const auto& hmac_text = hmac_it->get_ref<const std::string&>();
    if (hmac_text.size() != 2 * kDigestSize) {
        return reject(
            "hmac must be 64 hex digits, found " + std::to_string(hmac_text.size()) + " characters",
            unauthenticated_id(body));
    }
    const auto claimed = decode_hex_digest(hmac_text);
    if (!claimed) {
        return reject("hmac must be 64 hex digits, found a character that is not one",
                      unauthenticated_id(body));
    }
    if (key.empty()) {
        return reject("the gateway has no command key", unauthenticated_id(body));
    }
    const auto expected = hmac_sha256(key, body);
    if (!expected) return reject("the HMAC could not be computed", unauthenticated_id(body));
    if (CRYPTO_memcmp(expected->data(), claimed->data(), kDigestSize) != 0) {
        return reject("hmac does not match the body (wrong key, or the body was changed)",
                      unauthenticated_id(body));
    }

    // Authenticated from here on.
    auto parsed = parse_strict(body, why);
    if (!parsed) return reject("the body is " + why);
    if (!parsed->is_object()) {
        return reject(std::string("the body must be a JSON object, found ") + parsed->type_name());
    }
    const auto id_it = parsed->find("id");
    if (id_it == parsed->end()) return reject("the body has no \"id\"");
    if (!id_it->is_string()) {
        return reject(std::string("id must be a string, found ") + id_it->type_name());
    }
    std::string id = id_it->get<std::string>();
    if (!is_valid_command_id(id)) {
        return reject("id must be 1 to " + std::to_string(kMaxCommandIdLength) +
                      " printable ASCII characters without spaces, found " + quote_text(id));
    }
    const auto at_it = parsed->find("issued_at");
    if (at_it == parsed->end()) return reject("the body has no \"issued_at\"", id, true);
    if (!at_it->is_string()) {
        return reject(std::string("issued_at must be a string (an RFC 3339 time), found ") +
                          at_it->type_name(),
                      id, true);
    }
    const auto issued = parse_rfc3339_ms(at_it->get_ref<const std::string&>());
    if (!issued) return reject("issued_at: " + issued.error().message, id, true);
    const std::int64_t window = options.window_ms < 0 ? 0 : options.window_ms;
    // issued_at is within years 0000..9999, so with `now` clamped the difference fits.
    constexpr std::int64_t kFarMs = 4'000'000'000'000'000'000;
    const std::int64_t now = now_ms < -kFarMs ? -kFarMs : (now_ms > kFarMs ? kFarMs : now_ms);
    const std::int64_t age = now - *issued;
    if (age > window) {
        return reject("the command is stale: issued " + seconds_text(age) +
                          " before the gateway's time, the window is " + seconds_text(window),
                      id, true);
    }
    if (age < -window) {
        return reject("the command was issued " + seconds_text(-age) +
                          " after the gateway's time, the window is " + seconds_text(window) +
                          " (are the clocks set?)",
                      id, true);
    }
    return VerifiedCommand{std::move(id), *issued, std::move(*parsed)};
}

std::string quote_text(std::string_view s) {
    constexpr std::size_t kMax = 64;
    std::string out = "\"";
    for (std::size_t i = 0; i < s.size() && i < kMax; ++i) {
        const char c = s[i];
        out += (c >= 0x20 && c <= 0x7e) ? c : '?';
    }
    if (s.size() > kMax) out += "...";
    out += '"';
    return out;
}

}  // namespace ecmgw::uplink
