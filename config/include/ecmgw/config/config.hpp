// The gateway's configuration: loaded from TOML and validated completely before
// anything starts. Every mistake is reported with file:line:column.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "ecmgw/common/expected.hpp"

namespace ecmgw::config {

struct GatewayConfig {
    std::string id;  // [A-Za-z0-9_-]{1,64}; used in MQTT topics
    std::filesystem::path data_dir = "/var/lib/ecmgw";
    std::string timezone = "Asia/Shanghai";  // IANA name
};

struct CloudConfig {
    std::string uri = "tcp://127.0.0.1:1883";  // tcp://host:port, ssl://… in later issues
    std::string topic_prefix = "ecm/v1";
    std::string client_id;          // default: "ecmgw-" + gateway id
    int keepalive_s = 30;           // 5..3600
    int batch_max_records = 200;    // 1..10000 records per MQTT message
    int batch_max_delay_ms = 1000;  // 0..60000: how long a part batch waits
};

enum class Parity { None, Even, Odd };

struct BusConfig {
    std::string name;
    std::string device;
    int baud = 2400;  // 300..115200, one of the standard rates
    Parity parity = Parity::Even;
    int data_bits = 8;                // 7 or 8
    int stop_bits = 1;                // 1 or 2
    int timeout_ms = 600;             // response timeout, 50..10000
    int inter_byte_timeout_ms = 500;  // gap inside one answer, 10..5000 (DL/T 645 Tb)
    int gap_ms = 20;                  // quiet time between a response and the next request, 0..2000
    int retries = 1;                  // extra attempts after a timeout, 0..5
};

enum class Protocol { Dlt645_2007 };
enum class MeterKind { Electricity, Water };

struct MeterConfig {
    std::string id;
    std::string bus;  // a [[bus]] name
    Protocol protocol = Protocol::Dlt645_2007;
    std::string address;  // 12 digits for DL/T 645
    MeterKind kind = MeterKind::Electricity;
    int interval_s = 60;  // 1..86400
    // Quantities to read each interval (names from the protocol's data items);
    // empty = the protocol's default set for the kind.
    std::vector<std::string> quantities;
};

struct Config {
    std::filesystem::path source;  // the file it was loaded from
    GatewayConfig gateway;
    CloudConfig cloud;
    std::vector<BusConfig> buses;
    std::vector<MeterConfig> meters;

    const BusConfig* find_bus(std::string_view name) const;
    const MeterConfig* find_meter(std::string_view id) const;
};

// One mistake in a config file.
struct ConfigError {
    std::string file;
    int line = 0;         // 1-based; 0 when the mistake has no place (e.g. file missing)
    int column = 0;       // 1-based
    std::string key;      // dotted path: "bus[1].baud", "meter[3].address"
    std::string message;  // what was found and what was expected

    // "ecmgw.toml:12:8: bus[1].baud: found 2401, expected one of 300, 600, …"
    std::string to_string() const;
};

using ConfigErrors = std::vector<ConfigError>;

// Parses and validates `text`; `file_name` is used in error messages only.
// Returns every error found, not just the first.
Expected<Config, ConfigErrors> parse_config(std::string_view text, std::string_view file_name);
// Reads `path` and parses it.
Expected<Config, ConfigErrors> load_config(const std::filesystem::path& path);

std::string_view to_string(Protocol p);
std::string_view to_string(MeterKind k);
char to_char(Parity p);  // 'N', 'E', 'O'

}  // namespace ecmgw::config
