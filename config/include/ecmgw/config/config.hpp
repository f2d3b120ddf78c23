// The gateway's configuration: loaded from TOML and validated completely before
// anything starts. Every mistake is reported with file:line:column.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ecmgw/common/expected.hpp"
#include "ecmgw/config/profile.hpp"
#include "ecmgw/config/provisioned.hpp"
#include "ecmgw/config/types.hpp"
#include "ecmgw/prepaid/supply_policy.hpp"
#include "ecmgw/prepaid/tariff.hpp"

namespace ecmgw::config {

struct GatewayConfig {
    std::string id;  // [A-Za-z0-9_-]{1,64}; used in MQTT topics
    std::filesystem::path data_dir = "/var/lib/ecmgw";
    std::string timezone = "Asia/Shanghai";  // IANA name
    // Where the Modbus meter profiles (*.toml) are; a relative path in the file is
    // resolved against the config file's directory. Read only when a meter uses modbus.
    std::filesystem::path profiles_dir = "/usr/share/ecmgw/profiles";
    friend bool operator==(const GatewayConfig&, const GatewayConfig&) = default;
};

struct CloudConfig {
    // Key `uri`: one broker URI or a list of them; the client tries them in order on
    // each connect (failover). `uri` is the first, `uris` all of them.
    std::string uri = "tcp://127.0.0.1:1883";
    std::vector<std::string> uris{"tcp://127.0.0.1:1883"};
    // TLS (ssl:// or mqtts:// URIs only): the CA certificates that verify the broker
    // (unset: the system's trust store), and the gateway's own certificate and key
    // for brokers that ask for one (both or neither). PEM files; relative paths are
    // resolved against the config file's directory. The broker's name is verified.
    std::filesystem::path ca_file;
    std::filesystem::path cert_file;
    std::filesystem::path key_file;
    // MQTT user name, and the file whose content (without surrounding white space)
    // is the password; it is read again at every connect.
    std::string username;
    std::filesystem::path password_file;
    std::string topic_prefix = "ecm/v1";
    std::string client_id;          // default: "ecmgw-" + gateway id
    int keepalive_s = 30;           // 5..3600
    int batch_max_records = 200;    // 1..10000 records per MQTT message
    int batch_max_delay_ms = 1000;  // 0..60000: how long a part batch waits
    // The per-gateway key that signs downlink commands (HMAC-SHA256): the file's
    // content without surrounding whitespace. Unset: every command is refused. A
    // relative path is resolved against the config file's directory.
    std::filesystem::path command_key_file;
    // Commands issued longer ago (or further ahead) than this are refused, 10..86400.
    int command_max_age_s = 300;
    // The largest MQTT message payload the gateway publishes, 1024..1048576 bytes.
    int batch_max_bytes = 256 * 1024;
    // How often the retained status (<prefix>/<gw>/status) is refreshed, 1..3600 s.
    int status_interval_s = 60;
    friend bool operator==(const CloudConfig&, const CloudConfig&) = default;
};

// How the gateway reaches a bus: a local serial port, or a serial-to-Ethernet server.
enum class Transport { Serial, Tcp };
// What travels over the link: the meters' own serial frames (RTU; DL/T 645 and CJ/T 188
// frames pass the same way), or Modbus TCP's MBAP frames (modbus meters only).
enum class Framing { Rtu, Tcp };

struct BusConfig {
    std::string name;
    std::string device;  // transport serial: the port
    int baud = 2400;     // 300..115200, one of the standard rates
    Parity parity = Parity::Even;
    int data_bits = 8;                // 7 or 8
    int stop_bits = 1;                // 1 or 2
    int timeout_ms = 600;             // response timeout, 50..10000
    int inter_byte_timeout_ms = 500;  // gap inside one answer, 10..5000 (DL/T 645 Tb)
    int gap_ms = 20;                  // quiet time between a response and the next request, 0..2000
    int retries = 1;                  // extra attempts after a timeout, 0..5
    Transport transport = Transport::Serial;
    std::string host;  // transport tcp: the serial server
    int port = 0;      // transport tcp: 1..65535
    Framing framing = Framing::Rtu;
    // Broadcast the time to the DL/T 645 meters on this bus this often; 0 = never,
    // else 60..604800 s.
    int time_sync_interval_s = 0;
    friend bool operator==(const BusConfig&, const BusConfig&) = default;
};

enum class Protocol { Dlt645_2007, Dlt645_1997, Cjt188, Modbus };
enum class MeterKind { Electricity, Water };
// CJ/T 188 meter type (the T byte of its frames).
enum class MeterType { ColdWater, HotWater, DrinkingWater, ReclaimedWater, Heat, Gas };

struct MeterConfig {
    std::string id;
    std::string bus;  // a [[bus]] name
    Protocol protocol = Protocol::Dlt645_2007;
    // dlt645-*: 12 digits; cjt188: 14 digits; empty for modbus (see unit).
    std::string address;
    MeterKind kind = MeterKind::Electricity;
    int interval_s = 60;  // 1..86400
    // Quantities to read each interval (names from the protocol's data items, or the
    // profile's points for modbus); empty = the protocol's default set for the kind.
    std::vector<std::string> quantities;
    int unit = 0;         // modbus: the unit id, 1..247; 0 for the other protocols
    std::string profile;  // modbus: the name of a profile in profiles_dir
    MeterType meter_type = MeterType::ColdWater;  // cjt188 only
    // Serial settings of this meter where they differ from its bus's (unset = the bus's).
    std::optional<int> baud;
    std::optional<Parity> parity;
    std::optional<int> data_bits;
    std::optional<int> stop_bits;
    std::optional<int> timeout_ms;
    // DL/T 645 control credentials (relay commands): password (6 digits), privilege
    // level (0..9), operator code (8 digits), and how long a command stays valid.
    std::string password = "000000";
    int privilege = 2;
    std::string operator_code = "00000000";  // key "operator"
    int control_valid_s = 300;               // 10..86400
    // Whether the gateway may switch this meter's relay or valve. Default false; for
    // modbus, whether the profile describes a relay or valve.
    bool relay = false;
    // Prepaid: the account this meter's consumption is charged to (empty = not
    // charged), and a tariff id overriding the account's tariff for this meter.
    std::string account;
    std::string tariff;
    // The most a healthy meter can register per hour (kWh/h = kW for electricity,
    // m³/h for water): a reading implying more is an impossible jump and is
    // quarantined. Key `max_rate_per_hour`, a decimal string; default 100 kW for
    // electricity, 20 m³/h for water.
    Decimal max_rate_per_hour;
    friend bool operator==(const MeterConfig&, const MeterConfig&) = default;
};

// [[account]]: a prepaid wallet. One account may pay for several meters (a
// tenant's electricity and water can share one wallet).
struct AccountConfig {
    std::string id;  // [A-Za-z0-9_-]{1,64}
    // Key `tariff`: one tariff id or a list of them, at most one per utility; a
    // meter of the account is rated with the account's tariff for its utility.
    std::vector<std::string> tariffs;
    prepaid::CreditPolicy credit;  // keys warn_fen, credit_limit_fen, emergency_credit_fen,
                                   // restore_above_fen
    bool keep_power = false;       // 保电: never cut for credit
    // Credit the account starts with when the gateway first sees it (one ledger
    // row, applied once per store), >= 0.
    std::int64_t opening_balance_fen = 0;
};

// [prepaid]: gateway-wide prepaid settings.
struct PrepaidConfig {
    // Keys friendly_hours = ["22:00-06:00", ...], friendly_weekends, friendly_holidays.
    prepaid::FriendlyPeriods friendly;
    // Keys holidays = ["2026-10-01", ...] and workdays (weekend days worked, 调休);
    // yyyymmdd keys. Used by friendly periods and the tariffs' holiday day tables.
    std::set<int> holidays;
    std::set<int> workdays;
    // Keys relay_min_interval_s (0..86400) and relay_daily_max (1..1000).
    prepaid::RelayProtection relay;
    // How often the supply state is re-checked against time (friendly periods ending,
    // unconfirmed switches retried), 5..3600 s.
    int check_interval_s = 30;
    // Attempts to make a meter follow its desired state before an event asks for a
    // person (then retried every check_interval_s × 10), 1..20.
    int switch_attempts = 3;
    // How often each switchable meter's relay or valve state is read as part of its
    // turn, so that a meter switched by hand or by its own logic is noticed and made
    // to follow its desired state again; 0 = never, 0..86400 s.
    int supply_check_interval_s = 300;
};

// [store]: how much the database may hold (docs/config.md).
struct StoreConfig {
    // The outbox's bodies may take this much (1..65536 MB); beyond it the oldest
    // records are dropped, readings first, and an outbox_dropped event says which.
    int outbox_max_mb = 256;
    // Readings and events the broker acknowledged are kept this long (1..3650 days).
    int retention_days = 90;
    // Readings held in memory while the store cannot be written (1000..10000000);
    // beyond it the oldest of them are discarded and reported.
    int max_pending_readings = 100000;
};

// [control]: the socket the `ecmgw` CLI talks to the running daemon through
// (docs/control.md). A relative path is resolved against the config file's directory.
struct ControlConfig {
    std::filesystem::path socket = "/run/ecmgw/control.sock";
};

struct Config {
    std::filesystem::path source;  // the file it was loaded from
    GatewayConfig gateway;
    CloudConfig cloud;
    std::vector<BusConfig> buses;
    std::vector<MeterConfig> meters;
    // Every profile in gateway.profiles_dir, when some meter uses modbus (else empty).
    std::vector<Profile> profiles;
    // [[tariff]] entries with the same id are versions of one tariff (different
    // effective_from), merged here in effective_from order.
    std::vector<prepaid::Tariff> tariffs;
    std::vector<AccountConfig> accounts;
    PrepaidConfig prepaid;
    StoreConfig store;
    ControlConfig control;

    const BusConfig* find_bus(std::string_view name) const;
    const MeterConfig* find_meter(std::string_view id) const;
    // The profile a modbus meter uses; nullptr for other meters.
    const Profile* profile_of(const MeterConfig& meter) const;
    const prepaid::Tariff* find_tariff(std::string_view id) const;
    const AccountConfig* find_account(std::string_view id) const;
    // The tariff that rates `meter`: its own `tariff`, else its account's tariff for
    // the meter's utility; nullptr when the meter has no account.
    const prepaid::Tariff* tariff_of(const MeterConfig& meter) const;
};

// Parses and validates `text`; `file_name` is used in error messages and to resolve a
// relative profiles_dir. `provisioned` (the cloud's tariffs, accounts and meters) is
// laid over the file's entries first, and the whole is checked by the file's rules.
// Returns every error found, not just the first.
Expected<Config, ConfigErrors> parse_config(std::string_view text, std::string_view file_name,
                                            std::span<const Provisioned> provisioned = {});
// Reads `path` and parses it.
Expected<Config, ConfigErrors> load_config(const std::filesystem::path& path,
                                           std::span<const Provisioned> provisioned = {});

std::string_view to_string(Protocol p);
std::string_view to_string(MeterKind k);
std::string_view to_string(MeterType t);
std::string_view to_string(Transport t);
std::string_view to_string(Framing f);

}  // namespace ecmgw::config
