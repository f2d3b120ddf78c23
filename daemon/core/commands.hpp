// The downlink commands, typed: parsed and validated from the body of a command that
// uplink::verify_command authenticated. Every body has "id", "issued_at" and "type";
// the other fields depend on the type, and a body with a field its type does not have
// is refused (a command the gateway does not fully understand is not half applied).
// Also the acknowledgement's body: {"id":…,"ok":true} or {"id":…,"ok":false,"error":…}.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "ecmgw/common/expected.hpp"
#include "uplink/command_auth.hpp"

namespace ecmgw::core {

// Money limits: a top-up or refund is 1 fen to 1,000,000 yuan; an adjustment is not
// zero and at most that much either way.
inline constexpr std::int64_t kMaxCommandAmountFen = 100'000'000;
// Account and meter ids as the config has them: [A-Za-z0-9_-]{1,64}.
inline constexpr std::size_t kMaxCommandObjectIdLength = 64;
// A payment's transaction id (WeChat, Alipay, …): 1 to 128 printable ASCII, no spaces.
inline constexpr std::size_t kMaxTxnLength = 128;
// An adjustment's reason: 1 to 256 bytes of UTF-8 text without control characters.
inline constexpr std::size_t kMaxReasonLength = 256;

// {"type":"topup","account":"A-0101","amount_fen":10000,"txn":"wx-4200001234"}
struct TopUp {
    static constexpr std::string_view kType = "topup";
    std::string account;
    std::int64_t amount_fen = 0;  // 1..kMaxCommandAmountFen
    std::string txn;
};
// {"type":"adjust","account":…,"amount_fen":-500,"reason":"meter replaced"}
struct Adjust {
    static constexpr std::string_view kType = "adjust";
    std::string account;
    std::int64_t amount_fen = 0;  // non-zero, |amount| <= kMaxCommandAmountFen
    std::string reason;
};
// {"type":"refund","account":…,"amount_fen":10000,"txn":…}
struct Refund {
    static constexpr std::string_view kType = "refund";
    std::string account;
    std::int64_t amount_fen = 0;  // 1..kMaxCommandAmountFen
    std::string txn;
};
// {"type":"tariff_set","tariff":{…}} or {"type":"tariff_set","tariff":[{…},{…}]}: the
// tariff as the config file's [[tariff]] keys (decimals as strings; effective_from as an
// RFC 3339 string), or all its versions. It replaces every version the gateway has.
struct TariffSet {
    static constexpr std::string_view kType = "tariff_set";
    nlohmann::json tariff;  // a non-empty object, or a non-empty array of them
};
// {"type":"account_set","account":{…}}: the account as the file's [[account]] keys;
// it adds the account or replaces the one with its id (the balance is the ledger's).
struct AccountSet {
    static constexpr std::string_view kType = "account_set";
    nlohmann::json account;  // a non-empty object
};
// {"type":"account_remove","account":"A-0101"}
struct AccountRemove {
    static constexpr std::string_view kType = "account_remove";
    std::string account;
};
// {"type":"meter_set","meter":{…}}: the meter as the file's [[meter]] keys; it adds
// the meter or replaces the one with its id, and its bus starts polling it at once.
struct MeterSet {
    static constexpr std::string_view kType = "meter_set";
    nlohmann::json meter;  // a non-empty object
};
// {"type":"meter_remove","meter":"m-01"}
struct MeterRemove {
    static constexpr std::string_view kType = "meter_remove";
    std::string meter;
};
enum class ForcedSupply { On, Off, None };  // "on", "off", "none" (end the forcing)
// {"type":"supply_force","meter":…,"state":"on"|"off"|"none"}
struct SupplyForce {
    static constexpr std::string_view kType = "supply_force";
    std::string meter;
    ForcedSupply state = ForcedSupply::None;
};
// {"type":"keep_power","account":…,"on":true}; "on":null hands the account back to
// its configured keep_power.
struct KeepPower {
    static constexpr std::string_view kType = "keep_power";
    std::string account;
    std::optional<bool> on;
};
// {"type":"emergency_credit","account":…}
struct EmergencyCredit {
    static constexpr std::string_view kType = "emergency_credit";
    std::string account;
};
// {"type":"read_now","meter":…}
struct ReadNow {
    static constexpr std::string_view kType = "read_now";
    std::string meter;
};
// {"type":"time_sync"}
struct TimeSync {
    static constexpr std::string_view kType = "time_sync";
};
// {"type":"config_reload"}
struct ConfigReload {
    static constexpr std::string_view kType = "config_reload";
};

using CommandAction =
    std::variant<TopUp, Adjust, Refund, TariffSet, AccountSet, AccountRemove, MeterSet, MeterRemove,
                 SupplyForce, KeepPower, EmergencyCredit, ReadNow, TimeSync, ConfigReload>;

struct Command {
    std::string id;
    std::int64_t issued_at_ms = 0;
    CommandAction action;
};

// The "type" of each alternative, in the variant's order.
const std::vector<std::string_view>& known_command_types();
std::string_view command_type(const CommandAction& action);
std::string_view forced_supply_name(ForcedSupply state);  // "on", "off", "none"

// The typed command, or why the body is not one (the reason goes into the error
// acknowledgement, which names `verified.id`). Never throws.
Expected<Command> parse_command(const uplink::VerifiedCommand& verified);

// The acknowledgement's body as JSON text (the outbox adds gateway and seq):
// {"id":"c-7f3a","ok":true} and {"id":"c-7f3a","ok":false,"error":"…"}. Text that is
// not valid UTF-8 is replaced, so these never throw.
std::string ack_ok(std::string_view id);
std::string ack_error(std::string_view id, std::string_view error);

}  // namespace ecmgw::core
