#include "core/commands.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <utility>

namespace ecmgw::core {

namespace {

using nlohmann::json;

// Fields every body has; verify_command checked id and issued_at.
constexpr std::array<std::string_view, 3> kCommonFields{"id", "issued_at", "type"};

constexpr std::string_view kIdentifierRule =
    "1 to 64 characters, each a letter A-Z/a-z, a digit, '-' or '_'";

using uplink::quote_text;

std::string join(const std::vector<std::string_view>& names) {
    std::string out;
    for (const auto name : names) {
        if (!out.empty()) out += ", ";
        out += name;
    }
    return out;
}

bool is_identifier(std::string_view s) {
    if (s.empty() || s.size() > kMaxCommandObjectIdLength) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_';
    });
}

bool is_token(std::string_view s, std::size_t max) {
    if (s.empty() || s.size() > max) return false;
    return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c <= 0x7e; });
}

// Reads the fields of one body; the first problem wins and the later reads return
// placeholders, so a parser reads all its fields and asks for the result at the end.
class Reader {
  public:
    explicit Reader(const json& body) : body_(body) {}

    std::string identifier(const char* name) {
        const json* v = string_field(name, kIdentifierRule);
        if (v == nullptr) return {};
        const auto& s = v->get_ref<const std::string&>();
        if (!is_identifier(s)) {
            return problem(std::string(name) + " must be " + std::string(kIdentifierRule) +
                           ", found " + quote_text(s));
        }
        return s;
    }

    std::string txn(const char* name) {
        const json* v = string_field(name, "a payment's transaction id");
        if (v == nullptr) return {};
        const auto& s = v->get_ref<const std::string&>();
        if (!is_token(s, kMaxTxnLength)) {
            return problem(std::string(name) + " must be 1 to " + std::to_string(kMaxTxnLength) +
                           " printable ASCII characters without spaces, found " + quote_text(s));
        }
        return s;
    }

    std::string text(const char* name) {
        const json* v = string_field(name, "text saying why");
        if (v == nullptr) return {};
        const auto& s = v->get_ref<const std::string&>();
        if (s.empty() || s.size() > kMaxReasonLength) {
            return problem(std::string(name) + " must be 1 to " + std::to_string(kMaxReasonLength) +
                           " bytes of text, found " + std::to_string(s.size()));
        }
        const bool control = std::any_of(s.begin(), s.end(), [](char c) {
            const auto u = static_cast<unsigned char>(c);
            return u < 0x20 || u == 0x7f;
        });
        if (control) return problem(std::string(name) + " must not contain control characters");
        return s;
    }

    // An amount of fen: a JSON integer with |amount| <= kMaxCommandAmountFen, and
    // positive unless `signed_amount` (then non-zero).
    std::int64_t amount(const char* name, bool signed_amount) {
        const json* v = field(name, "an integer number of fen");
        if (v == nullptr) return 0;
        if (v->is_number_float()) {
            problem(std::string(name) + " must be an integer number of fen, found " + v->dump());
            return 0;
        }
        if (!v->is_number_integer()) {
            problem(std::string(name) + " must be an integer, found " + v->type_name());
            return 0;
        }
        const std::string limit = std::to_string(kMaxCommandAmountFen) + " fen (1,000,000 yuan)";
        if (v->is_number_unsigned() &&
            v->get<std::uint64_t>() > static_cast<std::uint64_t>(kMaxCommandAmountFen)) {
            problem("absurd amount: " + std::string(name) + " " + v->dump() + " is more than " +
                    limit);
            return 0;
        }
        const auto fen = v->get<std::int64_t>();
        if (fen > kMaxCommandAmountFen || fen < -kMaxCommandAmountFen) {
            problem("absurd amount: " + std::string(name) + " " + std::to_string(fen) +
                    (fen > 0 ? " is more than " : " is less than -") + limit);
            return 0;
        }
        if (signed_amount && fen == 0) {
            problem(std::string(name) + " must not be zero");
            return 0;
        }
        if (!signed_amount && fen <= 0) {
            problem(std::string(name) + " must be positive, found " + std::to_string(fen));
            return 0;
        }
        return fen;
    }

    bool boolean(const char* name) {
        const json* v = field(name, "true or false");
        if (v == nullptr) return false;
        if (!v->is_boolean()) {
            problem(std::string(name) + " must be a boolean, found " + v->type_name());
            return false;
        }
        return v->get<bool>();
    }

    // true, false, or null for "as configured".
    std::optional<bool> boolean_or_null(const char* name) {
        const json* v = field(name, "true, false or null");
        if (v == nullptr || v->is_null()) return std::nullopt;
        if (!v->is_boolean()) {
            problem(std::string(name) + " must be true, false or null, found " + v->type_name());
            return std::nullopt;
        }
        return v->get<bool>();
    }

    json object(const char* name) {
        const json* v = field(name, "an object");
        if (v == nullptr) return json::object();
        if (!v->is_object()) {
            problem(std::string(name) + " must be an object, found " + v->type_name());
            return json::object();
        }
        if (v->empty()) {
            problem(std::string(name) + " must not be an empty object");
            return json::object();
        }
        return *v;
    }

    // A tariff may come as one object or as its versions (a non-empty array of them).
    json object_or_versions(const char* name) {
        const json* v = field(name, "an object, or an array of versions");
        if (v == nullptr) return json::object();
        if (v->is_array()) {
            if (v->empty()) {
                problem(std::string(name) + " must not be an empty array");
                return json::object();
            }
            for (const auto& version : *v) {
                if (!version.is_object() || version.empty()) {
                    problem(std::string(name) + " versions must be non-empty objects, found " +
                            version.type_name());
                    return json::object();
                }
            }
            return *v;
        }
        return object(name);
    }

    ForcedSupply supply_state(const char* name) {
        const json* v = string_field(name, "\"on\", \"off\" or \"none\"");
        if (v == nullptr) return ForcedSupply::None;
        const auto& s = v->get_ref<const std::string&>();
        if (s == "on") return ForcedSupply::On;
        if (s == "off") return ForcedSupply::Off;
        if (s == "none") return ForcedSupply::None;
        problem(std::string(name) + " must be \"on\", \"off\" or \"none\", found " + quote_text(s));
        return ForcedSupply::None;
    }

    Expected<CommandAction> finish(CommandAction action) const {
        if (error_) return fail(*error_);
        return action;
    }

  private:
    std::string problem(std::string message) {
        if (!error_) error_ = std::move(message);
        return {};
    }

    const json* field(const char* name, std::string_view expected) {
        if (error_) return nullptr;
        const auto it = body_.find(name);
        if (it == body_.end()) {
            problem(std::string(name) + " is missing (" + std::string(expected) + ")");
            return nullptr;
        }
        return &*it;
    }

    const json* string_field(const char* name, std::string_view expected) {
        const json* v = field(name, expected);
        if (v != nullptr && !v->is_string()) {
            problem(std::string(name) + " must be a string, found " + v->type_name());
            return nullptr;
        }
        return v;
    }

    const json& body_;
    std::optional<std::string> error_;
};

struct TypeSpec {
    std::string_view type;
    std::vector<std::string_view> fields;  // besides id, issued_at and type
    Expected<CommandAction> (*parse)(Reader&);
};

const std::vector<TypeSpec>& type_specs() {
    static const std::vector<TypeSpec> specs{
        {TopUp::kType,
         {"account", "amount_fen", "txn"},
         [](Reader& r) {
             return r.finish(
                 TopUp{r.identifier("account"), r.amount("amount_fen", false), r.txn("txn")});
         }},
        {Adjust::kType,
         {"account", "amount_fen", "reason"},
         [](Reader& r) {
             return r.finish(
                 Adjust{r.identifier("account"), r.amount("amount_fen", true), r.text("reason")});
         }},
        {Refund::kType,
         {"account", "amount_fen", "txn"},
         [](Reader& r) {
             return r.finish(
                 Refund{r.identifier("account"), r.amount("amount_fen", false), r.txn("txn")});
         }},
        {TariffSet::kType,
         {"tariff"},
         [](Reader& r) { return r.finish(TariffSet{r.object_or_versions("tariff")}); }},
        {AccountSet::kType,
         {"account"},
         [](Reader& r) { return r.finish(AccountSet{r.object("account")}); }},
        {AccountRemove::kType,
         {"account"},
         [](Reader& r) { return r.finish(AccountRemove{r.identifier("account")}); }},
        {MeterSet::kType,
         {"meter"},
         [](Reader& r) { return r.finish(MeterSet{r.object("meter")}); }},
        {MeterRemove::kType,
         {"meter"},
         [](Reader& r) { return r.finish(MeterRemove{r.identifier("meter")}); }},
        {SupplyForce::kType,
         {"meter", "state"},
         [](Reader& r) {
             return r.finish(SupplyForce{r.identifier("meter"), r.supply_state("state")});
         }},
        {KeepPower::kType,
         {"account", "on"},
         [](Reader& r) {
             return r.finish(KeepPower{r.identifier("account"), r.boolean_or_null("on")});
         }},
        {EmergencyCredit::kType,
         {"account"},
         [](Reader& r) { return r.finish(EmergencyCredit{r.identifier("account")}); }},
        {ReadNow::kType,
         {"meter"},
         [](Reader& r) { return r.finish(ReadNow{r.identifier("meter")}); }},
        {TimeSync::kType, {}, [](Reader& r) { return r.finish(TimeSync{}); }},
        {ConfigReload::kType, {}, [](Reader& r) { return r.finish(ConfigReload{}); }},
    };
    return specs;
}

template <std::size_t... I>
std::vector<std::string_view> variant_types(std::index_sequence<I...>) {
    return {std::variant_alternative_t<I, CommandAction>::kType...};
}

std::string ack_text(const nlohmann::ordered_json& ack) {
    return ack.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace

const std::vector<std::string_view>& known_command_types() {
    static const std::vector<std::string_view> types =
        variant_types(std::make_index_sequence<std::variant_size_v<CommandAction>>{});
    return types;
}

std::string_view command_type(const CommandAction& action) {
    return std::visit([](const auto& a) { return std::decay_t<decltype(a)>::kType; }, action);
}

std::string_view forced_supply_name(ForcedSupply state) {
    switch (state) {
        case ForcedSupply::On:
            return "on";
        case ForcedSupply::Off:
            return "off";
        case ForcedSupply::None:
            break;
    }
    return "none";
}

Expected<Command> parse_command(const uplink::VerifiedCommand& verified) {
    const json& body = verified.body_json;
    if (!body.is_object()) {
        return fail(std::string("the body must be a JSON object, found ") + body.type_name());
    }
    const auto known = "known: " + join(known_command_types());
    const auto type_it = body.find("type");
    if (type_it == body.end()) return fail("the body has no \"type\" (" + known + ")");
    if (!type_it->is_string()) {
        return fail(std::string("type must be a string, found ") + type_it->type_name());
    }
    const auto& type = type_it->get_ref<const std::string&>();
    const auto& specs = type_specs();
    const auto spec =
        std::find_if(specs.begin(), specs.end(), [&](const TypeSpec& s) { return s.type == type; });
    if (spec == specs.end())
        return fail("unknown command type " + quote_text(type) + " (" + known + ")");

    for (auto it = body.begin(); it != body.end(); ++it) {
        const std::string& name = it.key();
        const auto is = [&](std::string_view f) { return f == name; };
        if (std::any_of(kCommonFields.begin(), kCommonFields.end(), is) ||
            std::any_of(spec->fields.begin(), spec->fields.end(), is)) {
            continue;
        }
        std::vector<std::string_view> fields(kCommonFields.begin(), kCommonFields.end());
        fields.insert(fields.end(), spec->fields.begin(), spec->fields.end());
        return fail("unknown field " + quote_text(name) + " in a " + type +
                    " command (its fields: " + join(fields) + ")");
    }

    Reader reader(body);
    auto action = spec->parse(reader);
    if (!action) return unexpected(action.error());
    return Command{verified.id, verified.issued_at_ms, std::move(*action)};
}

std::string ack_ok(std::string_view id) {
    nlohmann::ordered_json ack;
    ack["id"] = std::string(id);
    ack["ok"] = true;
    return ack_text(ack);
}

std::string ack_error(std::string_view id, std::string_view error) {
    nlohmann::ordered_json ack;
    ack["id"] = std::string(id);
    ack["ok"] = false;
    ack["error"] = std::string(error);
    return ack_text(ack);
}

}  // namespace ecmgw::core
