// Settings that are valid but probably wrong: a timeout shorter than a meter's answer
// takes on the wire, a baud rate or parity the protocol's meters do not use, a prepaid
// meter the gateway cannot cut, an account without a tariff… `ecmgw check-config`
// prints them like errors (file:line:column), but they do not stop the daemon.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "ecmgw/common/expected.hpp"
#include "ecmgw/config/config.hpp"

namespace ecmgw::config {

// The shortest request-and-answer a meter can manage on its serial line: the request
// and the largest answer the gateway asks it for, on the wire at its baud rate, plus
// the least time the protocol lets a meter take to turn round. USB adapters return from
// tcdrain() before the last byte has left, libmodbus does not drain at all, and serial
// servers forward a whole answer at once, so a response timeout shorter than this
// fails even with a perfectly healthy meter.
struct ExchangeTime {
    std::size_t request_bytes = 0;  // wake-up bytes included
    std::size_t answer_bytes = 0;
    int bits_per_byte = 0;  // start + data + parity + stop bits
    double turnaround_ms = 0;
    double total_ms = 0;
};

// nullopt for meters behind Modbus TCP framing (no serial line the gateway can see)
// and modbus meters whose profile is unknown.
std::optional<ExchangeTime> min_exchange_time(const Config& config, const MeterConfig& meter);

// Every warning of a config that parsed without errors. `text` is the file's text (its
// positions are read again from it) and `file_name` the name warnings carry.
ConfigErrors config_warnings(const Config& config, std::string_view text,
                             std::string_view file_name);

// "ecmgw.toml:12:8: warning: bus[1].timeout_ms: …"
std::string warning_to_string(const ConfigError& warning);

struct CheckedConfig {
    Config config;
    ConfigErrors warnings;
};
// load_config and config_warnings in one: the errors, or the config with its warnings.
Expected<CheckedConfig, ConfigErrors> check_config_file(const std::filesystem::path& path);
Expected<CheckedConfig, ConfigErrors> check_config_text(std::string_view text,
                                                        std::string_view file_name);

}  // namespace ecmgw::config
