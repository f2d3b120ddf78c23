#include "cli/output.hpp"

#include <fmt/core.h>

#include <nlohmann/json.hpp>

namespace ecmgw::cli {

std::string json_object(const JsonMembers& members) {
    std::string out = "{";
    for (const auto& [key, value] : members) {
        if (out.size() > 1) out += ",";
        out += json_string(key) + ":" + value;
    }
    return out + "}";
}

std::string json_array(const std::vector<std::string>& elements) {
    std::string out = "[";
    for (const auto& e : elements) out += (out.size() > 1 ? "," : "") + e;
    return out + "]";
}

std::string json_string(std::string_view text) { return nlohmann::json(text).dump(); }

// Decimal::to_string writes an optional sign, digits and a point: already JSON.
std::string json_number(const Decimal& value) { return value.to_string(); }

int report(const CommandError& error) {
    fmt::print(stderr, "{}\n", error.message);
    return error.exit_code;
}

}  // namespace ecmgw::cli
