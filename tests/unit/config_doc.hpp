// Config documents in tests: parse one that must be valid, or get the errors of
// one that must not be (each message printed when a check fails).
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "ecmgw/config/config.hpp"

namespace ecmgw::test {

inline constexpr std::string_view kConfigFile = "t.toml";

inline std::string all_errors(const config::ConfigErrors& errors) {
    std::string out;
    for (const auto& e : errors) out += e.to_string() + "\n";
    return out;
}

inline config::Config parse_ok(const std::string& text) {
    auto result = config::parse_config(text, kConfigFile);
    INFO((result ? std::string() : all_errors(result.error())));
    REQUIRE(result.has_value());
    return *result;
}

inline config::ConfigErrors errors_of(const std::string& text) {
    auto result = config::parse_config(text, kConfigFile);
    REQUIRE_FALSE(result.has_value());
    return result.error();
}

// For documents built to hold exactly one mistake.
inline config::ConfigError only_error(const std::string& text) {
    const config::ConfigErrors errors = errors_of(text);
    INFO(all_errors(errors));
    REQUIRE(errors.size() == 1);
    return errors.front();
}

inline bool has(const std::string& text, std::string_view part) {
    return text.find(part) != std::string::npos;
}

}  // namespace ecmgw::test
