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

namespace {
thread_local CapturedText* t_captured = nullptr;
}  // namespace

int report(const CommandError& error) {
    print_err(error.message + "\n");
    return error.exit_code;
}

void print_out(std::string_view text) {
    if (t_captured != nullptr) {
        t_captured->out += text;
    } else {
        fmt::print("{}", text);
    }
}

void print_err(std::string_view text) {
    if (t_captured != nullptr) {
        t_captured->err += text;
    } else {
        fmt::print(stderr, "{}", text);
    }
}

CaptureOutput::CaptureOutput(CapturedText& into) : previous_(t_captured) { t_captured = &into; }

CaptureOutput::~CaptureOutput() { t_captured = previous_; }

}  // namespace ecmgw::cli
