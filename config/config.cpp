// Loading and validating the gateway's TOML configuration.
//
// A technician edits this file on site, often over a slow console, so the
// whole file is checked in one pass and every mistake is reported at once with
// file:line:column, what was found and what was expected. Nothing here throws:
// toml++'s exceptions are caught at the edge and turned into ConfigErrors.
#include "ecmgw/config/config.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <tuple>
#include <utility>

#include "ecmgw/protocols/dlt645.hpp"
#include "ecmgw/protocols/dlt645_1997.hpp"
#include "prepaid_config.hpp"
#include "provisioned_overlay.hpp"
#include "toml_check.hpp"

namespace ecmgw::config {

namespace {

using namespace check;

// ---------------------------------------------------------------------------
// The schema: every key each table may hold, in the order the docs list them.
// New keys go at the end of each list, so messages that list them stay stable.

constexpr std::array<std::string_view, 9> kRootKeys{
    "gateway", "cloud", "bus", "meter", "tariff", "account", "prepaid", "store", "control"};
constexpr std::array<std::string_view, 1> kControlKeys{"socket"};
constexpr std::array<std::string_view, 3> kStoreKeys{"outbox_max_mb", "retention_days",
                                                     "max_pending_readings"};
constexpr std::array<std::string_view, 4> kGatewayKeys{"id", "data_dir", "timezone",
                                                       "profiles_dir"};
constexpr std::array<std::string_view, 15> kCloudKeys{"uri",
                                                      "topic_prefix",
                                                      "client_id",
                                                      "keepalive_s",
                                                      "batch_max_records",
                                                      "batch_max_delay_ms",
                                                      "command_key_file",
                                                      "command_max_age_s",
                                                      "ca_file",
                                                      "cert_file",
                                                      "key_file",
                                                      "username",
                                                      "password_file",
                                                      "batch_max_bytes",
                                                      "status_interval_s"};
constexpr std::array<std::string_view, 15> kBusKeys{"name",
                                                    "device",
                                                    "baud",
                                                    "parity",
                                                    "data_bits",
                                                    "stop_bits",
                                                    "timeout_ms",
                                                    "inter_byte_timeout_ms",
                                                    "gap_ms",
                                                    "retries",
                                                    "transport",
                                                    "host",
                                                    "port",
                                                    "framing",
                                                    "time_sync_interval_s"};
constexpr std::array<std::string_view, 23> kMeterKeys{"id",
                                                      "bus",
                                                      "protocol",
                                                      "address",
                                                      "kind",
                                                      "interval_s",
                                                      "quantities",
                                                      "unit",
                                                      "profile",
                                                      "meter_type",
                                                      "baud",
                                                      "parity",
                                                      "data_bits",
                                                      "stop_bits",
                                                      "timeout_ms",
                                                      "password",
                                                      "privilege",
                                                      "operator",
                                                      "control_valid_s",
                                                      "relay",
                                                      "account",
                                                      "tariff",
                                                      "max_rate_per_hour"};

constexpr std::array<int, 2> kDataBits{7, 8};
constexpr std::array<int, 2> kStopBits{1, 2};

constexpr std::string_view kDlt645_2007 = "dlt645-2007";
constexpr std::string_view kDlt645_1997 = "dlt645-1997";
constexpr std::string_view kCjt188 = "cjt188";
constexpr std::string_view kModbus = "modbus";
constexpr std::array<std::string_view, 4> kProtocols{kDlt645_2007, kDlt645_1997, kCjt188, kModbus};
constexpr std::array<std::string_view, 2> kKinds{"electricity", "water"};
constexpr std::array<std::string_view, 6> kMeterTypes{
    "cold_water", "hot_water", "drinking_water", "reclaimed_water", "heat", "gas"};
constexpr std::array<std::string_view, 2> kTransports{"serial", "tcp"};
constexpr std::array<std::string_view, 2> kFramings{"rtu", "tcp"};

// What CJ/T 188 meters report (codec: protocols/cjt188, frame 901F and the status word).
constexpr std::array<std::string_view, 4> kCjt188Quantities{"volume_m3", "settlement_volume_m3",
                                                            "valve_state", "battery_low"};

constexpr std::string_view kZoneinfoDir = "/usr/share/zoneinfo/";
constexpr std::size_t kMaxClientIdLength = 128;

// ---------------------------------------------------------------------------
// Value checks. Each returns what is wrong, in words, or nothing when fine.

// A zone exists when tzdata has a compiled zone file for it; checking the
// TZif magic rejects the directories and the *.tab index files that also live
// under /usr/share/zoneinfo.
bool timezone_exists(std::string_view name) {
    if (name == "UTC") return true;
    if (name.empty() || name.front() == '/' || name.find("..") != std::string_view::npos) {
        return false;
    }
    const bool plain = std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '/' || c == '_' ||
               c == '-' || c == '+';
    });
    if (!plain) return false;
    const std::string path = std::string(kZoneinfoDir) + std::string(name);
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                         &std::fclose);
    if (!file) return false;
    std::array<char, 4> magic{};
    return std::fread(magic.data(), 1, magic.size(), file.get()) == magic.size() &&
           std::string_view(magic.data(), magic.size()) == "TZif";
}

std::optional<std::string> port_problem(std::string_view port) {
    if (port.empty()) return "the port number after ':' is missing";
    if (!is_digits(port) || port.size() > 5) return "port " + in_quotes(port) + " is not a number";
    const int value = std::stoi(std::string(port));
    if (value < 1 || value > 65535) return "port " + std::string(port) + " is not in 1..65535";
    return std::nullopt;
}

std::optional<std::string> host_problem(std::string_view host) {
    if (host.empty()) return "the host name is missing";
    const bool plain = std::all_of(host.begin(), host.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' || c == '_';
    });
    if (!plain) return "host " + in_quotes(host) + " has characters a host name cannot have";
    return std::nullopt;
}

// A serial server's host: a name, an IPv4 address, or an IPv6 address without brackets.
std::optional<std::string> bus_host_problem(std::string_view host) {
    const bool ipv6 =
        host.find(':') != std::string_view::npos &&
        std::all_of(host.begin(), host.end(), [](char c) {
            return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == ':' || c == '.';
        });
    if (ipv6) return std::nullopt;
    return host_problem(host);
}

// Checks "scheme://host:port" as the MQTT client library takes it. Credentials
// and paths are refused: they do not belong in this key.
std::optional<std::string> uri_problem(std::string_view uri) {
    const std::size_t sep = uri.find("://");
    if (sep == std::string_view::npos) return "it has no scheme:// at the start";
    const std::string scheme = lowercase(uri.substr(0, sep));
    if (scheme != "tcp" && scheme != "ssl" && scheme != "mqtt" && scheme != "mqtts") {
        return "scheme " + in_quotes(uri.substr(0, sep)) + " is not tcp, ssl, mqtt or mqtts";
    }
    std::string_view rest = uri.substr(sep + 3);
    if (rest.find('/') != std::string_view::npos) return "a path after the port is not allowed";
    if (rest.find('@') != std::string_view::npos) return "user names do not belong in the uri";
    std::string_view host;
    std::string_view after_host;
    if (rest.starts_with('[')) {  // IPv6 literal: [::1]:1883
        const std::size_t close = rest.find(']');
        if (close == std::string_view::npos) return "the IPv6 address has no closing ']'";
        host = rest.substr(1, close - 1);
        if (host.empty()) return "the host name is missing";
        after_host = rest.substr(close + 1);
    } else {
        const std::size_t colon = rest.rfind(':');
        host = rest.substr(0, colon == std::string_view::npos ? rest.size() : colon);
        after_host = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon);
        if (auto problem = host_problem(host)) return problem;
    }
    if (!after_host.starts_with(':')) return "the port is missing (e.g. :1883)";
    return port_problem(after_host.substr(1));
}

bool is_tls_uri(std::string_view uri) {
    const std::string scheme = lowercase(uri.substr(0, uri.find("://")));
    return scheme == "ssl" || scheme == "mqtts";
}

// Failover beyond a handful of brokers only lengthens each failed connect.
constexpr std::size_t kMaxBrokerUris = 8;
constexpr std::string_view kUriRule =
    "expected tcp://host:port, ssl://host:port, mqtt://host:port or mqtts://host:port, e.g. "
    "\"tcp://127.0.0.1:1883\"";

// What is wrong with a PEM file's text, judged without a TLS library: enough to catch
// a DER file, a key given as the certificate or an empty file at load time.
std::optional<std::string> pem_problem(std::string_view text, std::string_view what) {
    if (what == "key") {
        if (text.find("-----BEGIN") == std::string_view::npos ||
            text.find("PRIVATE KEY-----") == std::string_view::npos) {
            return "it holds no PEM private key (-----BEGIN PRIVATE KEY-----)";
        }
        return std::nullopt;
    }
    if (text.find("-----BEGIN CERTIFICATE-----") == std::string_view::npos) {
        return "it holds no PEM certificate (-----BEGIN CERTIFICATE-----)";
    }
    return std::nullopt;
}

std::string_view trim_space(std::string_view s) {
    const auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
    while (!s.empty() && space(s.front())) s.remove_prefix(1);
    while (!s.empty() && space(s.back())) s.remove_suffix(1);
    return s;
}

std::optional<std::string> topic_prefix_problem(std::string_view prefix) {
    if (prefix.empty()) return "it is empty";
    if (prefix.find_first_of("+#") != std::string_view::npos) {
        return "'+' and '#' are MQTT wildcards and cannot be part of a topic";
    }
    if (prefix.front() == '/' || prefix.back() == '/') {
        return "it starts or ends with '/' (the gateway adds the '/' itself)";
    }
    if (prefix.find("//") != std::string_view::npos) return "it has an empty level ('//')";
    if (prefix.front() == '$') return "topics starting with '$' are reserved by the broker";
    const bool printable = std::all_of(prefix.begin(), prefix.end(), [](char c) {
        return static_cast<unsigned char>(c) > 0x20 && c != 0x7F;
    });
    if (!printable) return "it contains spaces or control characters";
    return std::nullopt;
}

std::optional<std::string> client_id_problem(std::string_view id) {
    if (id.size() > kMaxClientIdLength) return "it is longer than 128 characters";
    const bool printable = std::all_of(id.begin(), id.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u > 0x20 && u < 0x7F;
    });
    if (!printable) return "it contains spaces, control or non-ASCII characters";
    return std::nullopt;
}

// The quantity names a meter of `protocol` can read (for modbus: its profile's points).
std::vector<std::string_view> quantity_names(Protocol protocol, const Profile* profile) {
    std::vector<std::string_view> names;
    switch (protocol) {
        case Protocol::Dlt645_2007:
            for (const auto& item : dlt645::known_data_items()) names.push_back(item.quantity);
            names.insert(names.end(), dlt645::kFrozenImportQuantities.begin(),
                         dlt645::kFrozenImportQuantities.end());
            break;
        case Protocol::Dlt645_1997:
            for (const auto& item : dlt645_1997::known_data_items()) {
                names.push_back(item.quantity);
            }
            break;
        case Protocol::Cjt188:
            names.assign(kCjt188Quantities.begin(), kCjt188Quantities.end());
            break;
        case Protocol::Modbus:
            if (profile != nullptr) {
                for (const auto& point : profile->points) names.push_back(point.quantity);
            }
            break;
    }
    return names;
}

bool is_dlt645(Protocol p) { return p == Protocol::Dlt645_2007 || p == Protocol::Dlt645_1997; }

// ---------------------------------------------------------------------------
// The whole file.

class Parser {
  public:
    Parser(const toml::table& root, Errors& errors, std::filesystem::path base_dir)
        : root_(root), errors_(errors), base_dir_(std::move(base_dir)) {}

    Config run() {
        Config config;
        check_root_keys();
        read_gateway(config.gateway);
        read_cloud(config.cloud);
        read_store(config.store);
        read_control(config.control);
        if (config.cloud.client_id.empty() && !config.gateway.id.empty()) {
            config.cloud.client_id = "ecmgw-" + config.gateway.id;
        }
        // Buses first, whatever the file's order: meters refer to them.
        read_buses(config.buses);
        // Tariffs, then accounts (they name tariffs), before meters (they name both).
        prepaid_.read_tariffs(table_array("tariff"));
        prepaid_.read_accounts(table_array("account"));
        prepaid_.read_settings(single_table("prepaid"));
        // Profiles before meters: a modbus meter names one and reads its points.
        if (any_modbus_meter()) load_profiles(config);
        read_meters(config.meters, config.buses);
        prepaid_.finish(config);
        return config;
    }

  private:
    void check_root_keys() {
        for (auto&& [key, value] : root_) {
            const std::string_view name = key.str();
            if (std::find(kRootKeys.begin(), kRootKeys.end(), name) != kRootKeys.end()) continue;
            errors_.add(key.source(), std::string(name), unknown_root_key(name, value));
        }
    }

    static std::string unknown_root_key(std::string_view name, const toml::node& value) {
        std::string message;
        if (value.is_table()) {
            message = "unknown table [" + std::string(name) + "]";
        } else if (value.is_array_of_tables()) {
            message = "unknown table [[" + std::string(name) + "]]";
        } else {
            message = "unknown key '" + std::string(name) + "' at the top level";
        }
        if (auto home = table_holding(name)) {
            message += " (it belongs below the " + std::string(*home) + " header)";
        } else {
            message += did_you_mean(name, kRootKeys);
        }
        return message +
               "; expected one of: [gateway], [cloud], [[bus]], [[meter]], [[tariff]], "
               "[[account]], [prepaid], [store], [control]";
    }

    // A key written above every table header lands at the top level; saying
    // where it belongs is more useful than "unknown".
    static std::optional<std::string_view> table_holding(std::string_view key) {
        auto holds = [key](Keys keys) {
            return std::find(keys.begin(), keys.end(), key) != keys.end();
        };
        if (holds(kGatewayKeys)) return "[gateway]";
        if (holds(kCloudKeys)) return "[cloud]";
        if (holds(kBusKeys)) return "[[bus]]";
        if (holds(kMeterKeys)) return "[[meter]]";
        if (holds(kTariffKeys)) return "[[tariff]]";
        if (holds(kAccountKeys)) return "[[account]]";
        if (holds(kPrepaidKeys)) return "[prepaid]";
        if (holds(kStoreKeys)) return "[store]";
        if (holds(kControlKeys)) return "[control]";
        return std::nullopt;
    }

    // [gateway] and [cloud] are single tables.
    const toml::table* single_table(std::string_view name) {
        const toml::node* node = root_.get(name);
        if (node == nullptr) return nullptr;
        if (const auto* table = node->as_table()) return table;
        std::string message = found_expected(*node, "a single table");
        if (node->is_array_of_tables()) {
            message += ": write [" + std::string(name) + "] with one pair of brackets, once";
        }
        errors_.add(node->source(), std::string(name), std::move(message));
        return nullptr;
    }

    // [[bus]] and [[meter]] are arrays of tables; writing [bus] is the classic slip.
    const toml::array* table_array(std::string_view name) {
        const toml::node* node = root_.get(name);
        if (node == nullptr) return nullptr;
        if (const auto* array = node->as_array()) return array;
        std::string message;
        if (node->is_table()) {
            message = "found a single table [" + std::string(name) +
                      "], expected an array of tables: write [[" + std::string(name) +
                      "]] (two pairs of brackets) above each " + std::string(name);
        } else {
            message = found_expected(*node, "an array of tables: write [[" + std::string(name) +
                                                "]] above each " + std::string(name));
        }
        errors_.add(node->source(), std::string(name), std::move(message));
        return nullptr;
    }

    void read_gateway(GatewayConfig& gateway) {
        if (root_.get("gateway") == nullptr) {
            errors_.add_unplaced("gateway",
                                 "missing required table [gateway]; add it with at least "
                                 "id = \"…\" (the gateway's id, used in MQTT topics)");
            return;
        }
        const toml::table* table = single_table("gateway");
        if (table == nullptr) return;
        const Section s(errors_, *table, "gateway", kGatewayKeys);
        s.check_unknown_keys();
        if (const auto* id = s.required_string("id", "the gateway's id, e.g. id = \"gw-0001\"")) {
            if (is_identifier(id->get())) {
                gateway.id = id->get();
            } else {
                s.error("id", *id,
                        "found " + in_quotes(id->get()) + ", expected " +
                            std::string(kIdentifierRule) + " (the id is part of MQTT topics)");
            }
        }
        if (const auto* dir = s.string("data_dir")) {
            if (!dir->get().starts_with('/')) {
                s.error("data_dir", *dir,
                        "found " + in_quotes(dir->get()) +
                            ", expected an absolute path such as \"/var/lib/ecmgw\" (the "
                            "daemon does not run in the directory you start it from)");
            } else {
                gateway.data_dir = dir->get();
            }
        }
        if (const auto* tz = s.string("timezone")) {
            if (timezone_exists(tz->get())) {
                gateway.timezone = tz->get();
            } else {
                s.error("timezone", *tz,
                        "found " + in_quotes(tz->get()) +
                            ", expected an IANA time zone name such as \"Asia/Shanghai\" or "
                            "\"UTC\" (no such zone under /usr/share/zoneinfo)");
            }
        }
        profiles_dir_node_ = s.find("profiles_dir");
        if (const auto* dir = s.string("profiles_dir")) {
            if (dir->get().empty()) {
                s.error("profiles_dir", *dir,
                        "found \"\", expected a directory such as \"/usr/share/ecmgw/profiles\"");
                profiles_dir_ok_ = false;
            } else {
                // Relative to the config file, not to wherever the daemon was started.
                const std::filesystem::path path = dir->get();
                gateway.profiles_dir = path.is_absolute() ? path : base_dir_ / path;
            }
        } else if (profiles_dir_node_ != nullptr) {
            profiles_dir_ok_ = false;
        }
        profiles_dir_ = gateway.profiles_dir;
    }

    void read_control(ControlConfig& control) {
        const toml::table* table = single_table("control");
        if (table == nullptr) return;
        const Section s(errors_, *table, "control", kControlKeys);
        s.check_unknown_keys();
        if (const auto* socket = s.string("socket")) {
            const std::filesystem::path path(socket->get());
            const auto resolved = path.is_absolute() ? path : base_dir_ / path;
            // sockaddr_un holds 107 bytes of path and its terminating NUL.
            if (socket->get().empty() || resolved.string().size() > 107) {
                s.error("socket", *socket,
                        "found " + in_quotes(socket->get()) +
                            "; expected the path of the control socket, at most 107 bytes, "
                            "e.g. \"/run/ecmgw/control.sock\"");
            } else {
                control.socket = resolved;
            }
        }
    }

    void read_store(StoreConfig& store) {
        const toml::table* table = single_table("store");
        if (table == nullptr) return;
        const Section s(errors_, *table, "store", kStoreKeys);
        s.check_unknown_keys();
        s.integer("outbox_max_mb", store.outbox_max_mb, {1, 65536, "MB"});
        s.integer("retention_days", store.retention_days, {1, 3650, "days"});
        s.integer("max_pending_readings", store.max_pending_readings,
                  {1000, 10'000'000, "readings"});
    }

    void read_cloud(CloudConfig& cloud) {
        const toml::table* table = single_table("cloud");
        if (table == nullptr) return;
        const Section s(errors_, *table, "cloud", kCloudKeys);
        s.check_unknown_keys();
        read_uris(s, cloud);
        if (const auto* prefix = s.string("topic_prefix")) {
            if (auto problem = topic_prefix_problem(prefix->get())) {
                s.error("topic_prefix", *prefix,
                        "found " + in_quotes(prefix->get()) + ": " + *problem +
                            "; expected topic levels separated by '/', e.g. \"ecm/v1\"");
            } else {
                cloud.topic_prefix = prefix->get();
            }
        }
        if (const auto* id = s.string("client_id")) {
            if (auto problem = client_id_problem(id->get())) {
                s.error("client_id", *id,
                        "found " + in_quotes(id->get()) + ": " + *problem +
                            "; expected up to 128 printable ASCII characters without spaces, "
                            "or \"\" for ecmgw-<gateway id>");
            } else {
                cloud.client_id = id->get();
            }
        }
        s.integer("keepalive_s", cloud.keepalive_s, {5, 3600, "s"});
        s.integer("batch_max_records", cloud.batch_max_records, {1, 10000, "records"});
        s.integer("batch_max_delay_ms", cloud.batch_max_delay_ms, {0, 60000, "ms"});
        if (const auto* key = s.string("command_key_file")) {
            if (key->get().empty()) {
                s.error("command_key_file", *key,
                        "found \"\"; expected the path of the file holding this gateway's "
                        "command key, or leave the key out to refuse every command");
            } else {
                const std::filesystem::path path(key->get());
                cloud.command_key_file = path.is_absolute() ? path : base_dir_ / path;
            }
        }
        s.integer("command_max_age_s", cloud.command_max_age_s, {10, 86400, "s"});
        s.integer("batch_max_bytes", cloud.batch_max_bytes, {1024, 1048576, "bytes"});
        s.integer("status_interval_s", cloud.status_interval_s, {1, 3600, "s"});
        read_tls(s, cloud);
        read_credentials(s, cloud);
    }

    // `uri` is one string or an array of them (brokers tried in order).
    void read_uris(const Section& s, CloudConfig& cloud) {
        const toml::node* node = s.find("uri");
        if (node == nullptr) return;
        std::vector<const toml::node*> elements;
        if (node->is_string()) {
            elements.push_back(node);
        } else if (const auto* array = node->as_array()) {
            if (array->empty() || array->size() > kMaxBrokerUris) {
                s.error("uri", *node,
                        "found an array of " + std::to_string(array->size()) +
                            " URIs, expected 1 to 8 broker URIs (tried in order)");
                return;
            }
            for (const auto& element : *array) elements.push_back(&element);
        } else {
            s.error("uri", *node,
                    found_expected(*node,
                                   "a broker URI or an array of them, e.g. uri = "
                                   "[\"ssl://a.example:8883\", \"ssl://b.example:8883\"]"));
            return;
        }
        std::vector<std::string> uris;
        bool ok = true;
        for (const toml::node* element : elements) {
            const auto* text = element->as_string();
            if (text == nullptr) {
                s.error("uri", *element, found_expected(*element, "a broker URI string"));
                ok = false;
                continue;
            }
            const std::string& uri = text->get();
            if (auto problem = uri_problem(uri)) {
                s.error("uri", *element,
                        "found " + in_quotes(uri) + ": " + *problem + "; " + std::string(kUriRule));
                ok = false;
            } else if (std::find(uris.begin(), uris.end(), uri) != uris.end()) {
                s.error("uri", *element,
                        "found " + in_quotes(uri) + " twice; expected each broker once");
                ok = false;
            } else if (!uris.empty() && is_tls_uri(uri) != is_tls_uri(uris.front())) {
                // A failover that silently drops to plain text would leak the traffic
                // (and the password) whenever the TLS broker is down.
                s.error("uri", *element,
                        "found " + in_quotes(uri) + " after " + in_quotes(uris.front()) +
                            ": expected every URI to use TLS (ssl://, mqtts://) or none to");
                ok = false;
            } else {
                uris.push_back(uri);
            }
        }
        if (ok && !uris.empty()) {
            cloud.uris = uris;
            cloud.uri = uris.front();
        }
    }

    // A path key naming a readable file (relative to the config file's directory);
    // its content, or nothing after reporting why not.
    std::optional<std::string> readable_file(const Section& s, std::string_view key,
                                             std::filesystem::path& out) {
        const auto* value = s.string(key);
        if (value == nullptr) return std::nullopt;
        if (value->get().empty()) {
            s.error(key, *value, "found \"\"; expected the path of a file, or leave the key out");
            return std::nullopt;
        }
        const std::filesystem::path path(value->get());
        const std::filesystem::path resolved = path.is_absolute() ? path : base_dir_ / path;
        auto text = read_file(resolved);
        if (!text) {
            s.error(key, *value,
                    "found " + in_quotes(value->get()) + ": " + resolved.string() + ": " +
                        text.error().message + "; expected a file the daemon can read");
            return std::nullopt;
        }
        out = resolved;
        return std::move(*text);
    }

    void read_tls(const Section& s, CloudConfig& cloud) {
        const bool tls = is_tls_uri(cloud.uri);
        for (const auto& [key, what, out] :
             {std::tuple{"ca_file", "certificate", &cloud.ca_file},
              std::tuple{"cert_file", "certificate", &cloud.cert_file},
              std::tuple{"key_file", "key", &cloud.key_file}}) {
            const toml::node* node = s.find(key);
            if (node == nullptr) continue;
            if (!tls && node->is_string()) {
                s.error(key, *node,
                        std::string(key) + " is for TLS, but uri " + in_quotes(cloud.uri) +
                            " is plain; expected ssl://host:port or mqtts://host:port URIs "
                            "with it, or leave the key out");
                continue;
            }
            auto text = readable_file(s, key, *out);
            if (!text) continue;
            if (auto problem = pem_problem(*text, what)) {
                s.error(key, *node,
                        "found " + in_quotes(out->string()) + ": " + *problem +
                            "; expected a PEM file");
                out->clear();
            }
        }
        const toml::node* cert = s.find("cert_file");
        const toml::node* key = s.find("key_file");
        if (tls && (cert == nullptr) != (key == nullptr)) {
            const char* given = cert != nullptr ? "cert_file" : "key_file";
            const char* missing = cert != nullptr ? "key_file" : "cert_file";
            s.error(given, cert != nullptr ? *cert : *key,
                    std::string(given) + " without " + missing +
                        "; expected both (the gateway's certificate and its private key) or "
                        "neither");
        }
    }

    void read_credentials(const Section& s, CloudConfig& cloud) {
        if (const auto* name = s.string("username")) {
            const bool printable = std::all_of(name->get().begin(), name->get().end(), [](char c) {
                return static_cast<unsigned char>(c) >= 0x20 && c != 0x7F;
            });
            if (name->get().empty() || name->get().size() > 256 || !printable) {
                s.error("username", *name,
                        "found " + in_quotes(name->get()) +
                            "; expected 1 to 256 characters without control characters");
            } else {
                cloud.username = name->get();
            }
        }
        const toml::node* password = s.find("password_file");
        if (password == nullptr) return;
        if (s.find("username") == nullptr) {
            s.error("password_file", *password,
                    "password_file without username; expected username = \"…\" too (MQTT "
                    "sends a password only with a user name)");
            return;
        }
        auto text = readable_file(s, "password_file", cloud.password_file);
        if (!text) return;
        const std::string_view secret = trim_space(*text);
        if (secret.empty() || secret.size() > 65535) {
            s.error("password_file", *password,
                    "found " + in_quotes(cloud.password_file.string()) +
                        ": it holds no password (or more than 65535 bytes); expected the "
                        "password, alone in the file");
            cloud.password_file.clear();
        }
    }

    // Each element of [[bus]] / [[meter]] must be a table; calls `read` on each.
    template <class Read>
    void for_each_table(const toml::array& array, std::string_view name, Read read) {
        for (std::size_t i = 0; i < array.size(); ++i) {
            const toml::node& element = *array.get(i);
            const std::string path = indexed(name, i);
            if (const auto* table = element.as_table()) {
                read(*table, path);
            } else {
                errors_.add(element.source(), path, found_expected(element, "a table"));
            }
        }
    }

    // --- buses ---------------------------------------------------------------------

    void read_buses(std::vector<BusConfig>& buses) {
        const toml::array* array = table_array("bus");
        if (array == nullptr) return;
        for_each_table(*array, "bus", [&](const toml::table& table, const std::string& path) {
            buses.push_back(read_bus(Section(errors_, table, path, kBusKeys), path));
        });
    }

    BusConfig read_bus(const Section& s, const std::string& path) {
        BusConfig bus;
        s.check_unknown_keys();
        if (const auto* name =
                s.required_string("name", "the bus's name, e.g. name = \"floor1\"")) {
            read_bus_name(s, *name, path, bus);
        }
        const bool transport_ok = read_transport(s, bus);
        if (transport_ok && bus.transport == Transport::Serial) {
            if (const auto* device = s.required_string(
                    "device",
                    "the serial port, e.g. device = \"/dev/ttyUSB0\"; or "
                    "transport = \"tcp\" with host and port for a serial server")) {
                read_bus_device(s, *device, path, bus);
            }
            for (std::string_view key : {"host", "port"}) {
                if (const toml::node* node = s.find(key)) {
                    s.error(key, *node,
                            "'" + std::string(key) +
                                "' is for a serial server (transport = \"tcp\"); this bus is a "
                                "serial port (device)");
                }
            }
        } else if (transport_ok) {
            read_bus_server(s, path, bus);
        }
        read_framing(s, transport_ok, bus);
        s.integer_choice("baud", bus.baud, kStandardBauds);
        if (auto p = parity(s, "parity")) bus.parity = *p;
        s.integer_choice("data_bits", bus.data_bits, kDataBits);
        s.integer_choice("stop_bits", bus.stop_bits, kStopBits);
        s.integer("timeout_ms", bus.timeout_ms, {50, 10000, "ms"});
        s.integer("inter_byte_timeout_ms", bus.inter_byte_timeout_ms, {10, 5000, "ms"});
        s.integer("gap_ms", bus.gap_ms, {0, 2000, "ms"});
        s.integer("retries", bus.retries, {0, 5, ""});
        if (const auto* v = s.integer_node("time_sync_interval_s")) {
            if (v->get() != 0 && (v->get() < 60 || v->get() > 604800)) {
                s.error("time_sync_interval_s", *v,
                        "found " + std::to_string(v->get()) +
                            ", expected 0 (off) or 60..604800 s (one minute to one week)");
            } else {
                bus.time_sync_interval_s = static_cast<int>(v->get());
            }
        }
        return bus;
    }

    void read_bus_name(const Section& s, const toml::value<std::string>& name,
                       const std::string& path, BusConfig& bus) {
        const std::string& value = name.get();
        // Remembered even when malformed, so meters naming it are not
        // reported a second time as "unknown bus".
        if (const Seen* first = find_seen(bus_names_, value)) {
            s.error("name", name,
                    "duplicate bus name " + in_quotes(value) + ": " + first->path + " (line " +
                        std::to_string(first->line) +
                        ") already has it; every bus needs its "
                        "own name");
            return;
        }
        bus_names_.push_back({value, path, line_of(name)});
        if (!is_identifier(value)) {
            s.error("name", name,
                    "found " + in_quotes(value) + ", expected " + std::string(kIdentifierRule));
            return;
        }
        bus.name = value;
    }

    bool read_transport(const Section& s, BusConfig& bus) {
        const auto* t = s.string("transport");
        if (t == nullptr) return !s.has("transport");
        if (t->get() == "serial") {
            bus.transport = Transport::Serial;
        } else if (t->get() == "tcp") {
            bus.transport = Transport::Tcp;
        } else {
            s.error("transport", *t,
                    "found " + in_quotes(t->get()) + did_you_mean(t->get(), kTransports) +
                        ", expected \"serial\" (a local port: device) or \"tcp\" (a "
                        "serial-to-Ethernet server: host and port)");
            return false;
        }
        return true;
    }

    // Two pollers on one serial port would garble each other's frames.
    void read_bus_device(const Section& s, const toml::value<std::string>& device,
                         const std::string& path, BusConfig& bus) {
        const std::string& value = device.get();
        if (value.empty()) {
            s.error("device", device,
                    "found \"\", expected a serial port such as \"/dev/ttyUSB0\"");
            return;
        }
        if (const Seen* first = find_seen(bus_devices_, value)) {
            s.error("device", device,
                    "device " + in_quotes(value) + " is already used by " + first->path +
                        " (line " + std::to_string(first->line) +
                        "); two buses on one port would garble each other's frames");
            return;
        }
        bus_devices_.push_back({value, path, line_of(device)});
        bus.device = value;
    }

    // transport = "tcp": the serial server's host and port, and no device.
    void read_bus_server(const Section& s, const std::string& path, BusConfig& bus) {
        if (const toml::node* node = s.find("device")) {
            s.error("device", *node,
                    "'device' is for a local serial port; this bus uses transport = \"tcp\": "
                    "write host and port instead");
        }
        const auto* host =
            s.required_string("host", "the serial server's address, e.g. host = \"192.168.1.50\"");
        if (host != nullptr) {
            if (auto problem = bus_host_problem(host->get())) {
                s.error("host", *host,
                        "found " + in_quotes(host->get()) + ": " + *problem +
                            "; expected a host name or an IP address, e.g. \"192.168.1.50\"");
                host = nullptr;
            } else {
                bus.host = host->get();
            }
        }
        const auto* port = s.required_integer("port", "the server's TCP port, e.g. port = 4001");
        if (port != nullptr) {
            if (auto v = s.integer_in("port", {1, 65535, ""})) {
                bus.port = static_cast<int>(*v);
            } else {
                port = nullptr;
            }
        }
        if (host == nullptr || port == nullptr) return;
        // One serial server port is one RS-485 line: two pollers on it collide.
        const std::string endpoint = bus.host + ":" + std::to_string(bus.port);
        if (const Seen* first = find_seen(bus_endpoints_, endpoint)) {
            s.error("port", *port,
                    "server " + endpoint + " is already used by " + first->path + " (line " +
                        std::to_string(first->line) +
                        "); two buses on one server port would garble each other's frames");
            return;
        }
        bus_endpoints_.push_back({endpoint, path, line_of(*port)});
    }

    void read_framing(const Section& s, bool transport_ok, BusConfig& bus) {
        const auto* f = s.string("framing");
        if (f == nullptr) return;
        if (f->get() == "rtu") {
            bus.framing = Framing::Rtu;
        } else if (f->get() == "tcp") {
            if (transport_ok && bus.transport != Transport::Tcp) {
                s.error("framing", *f,
                        "framing = \"tcp\" (Modbus TCP) needs transport = \"tcp\"; on a serial "
                        "port the frames are \"rtu\"");
                return;
            }
            bus.framing = Framing::Tcp;
        } else {
            s.error("framing", *f,
                    "found " + in_quotes(f->get()) + did_you_mean(f->get(), kFramings) +
                        ", expected \"rtu\" (the meters' serial frames, also through a "
                        "transparent serial server) or \"tcp\" (Modbus TCP, modbus meters only)");
        }
    }

    // --- profiles --------------------------------------------------------------------

    // Whether any [[meter]] says protocol = "modbus", before the meters are read.
    bool any_modbus_meter() const {
        const toml::node* node = root_.get("meter");
        const toml::array* array = node != nullptr ? node->as_array() : nullptr;
        if (array == nullptr) return false;
        return std::any_of(array->begin(), array->end(), [](const toml::node& element) {
            const auto* table = element.as_table();
            const toml::node* protocol = table != nullptr ? table->get("protocol") : nullptr;
            return protocol != nullptr && protocol->is_string() &&
                   protocol->as_string()->get() == kModbus;
        });
    }

    // Every profile in the directory is checked, used or not: a broken file is an error
    // naming its own file:line, found now rather than when a meter starts using it.
    void load_profiles(Config& config) {
        if (!profiles_dir_ok_) return;
        ProfileLoad load = load_profiles_partial(profiles_dir_);
        for (const ConfigError& e : load.errors) {
            if (e.line == 0 && e.file == profiles_dir_.string()) {
                report_profiles_dir(e.message);
                return;
            }
            broken_profiles_.insert(std::filesystem::path(e.file).stem().string());
        }
        errors_.append_foreign(std::move(load.errors));
        config.profiles = std::move(load.profiles);
        profiles_ = &config.profiles;
        profiles_loaded_ = true;
    }

    void report_profiles_dir(const std::string& reason) {
        std::string message = in_quotes(profiles_dir_.string()) + ": " + reason +
                              "; modbus meters need their profiles (*.toml) from this directory";
        if (profiles_dir_node_ != nullptr) {
            errors_.add(profiles_dir_node_->source(), "gateway.profiles_dir", std::move(message));
        } else {
            errors_.add_unplaced("gateway.profiles_dir",
                                 message + " (the default; set [gateway] profiles_dir)");
        }
    }

    // --- meters ----------------------------------------------------------------------

    void read_meters(std::vector<MeterConfig>& meters, const std::vector<BusConfig>& buses) {
        const toml::array* array = table_array("meter");
        if (array == nullptr) return;
        for_each_table(*array, "meter", [&](const toml::table& table, const std::string& path) {
            meters.push_back(read_meter(Section(errors_, table, path, kMeterKeys), path, buses));
        });
    }

    MeterConfig read_meter(const Section& s, const std::string& path,
                           const std::vector<BusConfig>& buses) {
        MeterConfig meter;
        s.check_unknown_keys();
        if (const auto* id = s.required_string("id", "the meter's id, e.g. id = \"E-0101\"")) {
            read_meter_id(s, *id, path, meter);
        }
        if (const auto* bus = s.required_string("bus", "the name of its [[bus]]")) {
            read_meter_bus(s, *bus, meter);
        }
        const bool protocol_ok = read_protocol(s, meter, buses);
        const Profile* profile = nullptr;
        if (!protocol_ok) {
            read_address(s, path, std::nullopt, meter);
        } else if (meter.protocol == Protocol::Modbus) {
            read_unit(s, path, meter);
            profile = read_profile(s, meter);
        } else {
            read_address(s, path, meter.protocol, meter);
        }
        const bool kind_known = read_kind(s, protocol_ok, profile, meter);
        s.integer("interval_s", meter.interval_s, {1, 86400, "s"});
        read_meter_type(s, protocol_ok, meter);
        read_serial_overrides(s, meter);
        read_credentials(s, protocol_ok, meter);
        read_relay(s, protocol_ok, profile, meter);
        read_quantities(s, protocol_ok, profile, meter);
        prepaid_.read_meter(s, kind_known, meter);
        return meter;
    }

    void read_meter_id(const Section& s, const toml::value<std::string>& id,
                       const std::string& path, MeterConfig& meter) {
        const std::string& value = id.get();
        if (const Seen* first = find_seen(meter_ids_, value)) {
            s.error("id", id,
                    "duplicate meter id " + in_quotes(value) + ": " + first->path + " (line " +
                        std::to_string(first->line) +
                        ") already has it; every meter needs its "
                        "own id");
            return;
        }
        meter_ids_.push_back({value, path, line_of(id)});
        if (!is_identifier(value)) {
            s.error("id", id,
                    "found " + in_quotes(value) + ", expected " + std::string(kIdentifierRule) +
                        " (the id is part of MQTT topics)");
            return;
        }
        meter.id = value;
    }

    void read_meter_bus(const Section& s, const toml::value<std::string>& bus, MeterConfig& meter) {
        const std::string& value = bus.get();
        if (find_seen(bus_names_, value) != nullptr) {
            meter.bus = value;
            return;
        }
        std::string message = "no [[bus]] is named " + in_quotes(value);
        if (bus_names_.empty()) {
            message += "; no [[bus]] is defined: add one, with name = " + in_quotes(value);
        } else {
            std::vector<std::string> known;
            for (const Seen& b : bus_names_) known.push_back(in_quotes(b.value));
            message += "; known buses: " + join(known);
        }
        s.error("bus", bus, std::move(message));
    }

    bool read_protocol(const Section& s, MeterConfig& meter, const std::vector<BusConfig>& buses) {
        const auto* protocol = s.required_string(
            "protocol", "protocol = \"dlt645-2007\", \"dlt645-1997\", \"cjt188\" or \"modbus\"");
        if (protocol == nullptr) return false;
        const std::string& value = protocol->get();
        if (value == kDlt645_2007) {
            meter.protocol = Protocol::Dlt645_2007;
        } else if (value == kDlt645_1997) {
            meter.protocol = Protocol::Dlt645_1997;
        } else if (value == kCjt188) {
            meter.protocol = Protocol::Cjt188;
        } else if (value == kModbus) {
            meter.protocol = Protocol::Modbus;
        } else {
            s.error("protocol", *protocol,
                    "found " + in_quotes(value) + did_you_mean(value, kProtocols) +
                        ", expected one of the supported protocols: " + quoted_list(kProtocols));
            return false;
        }
        // Modbus TCP frames carry nothing but Modbus.
        auto bus = std::find_if(buses.begin(), buses.end(),
                                [&](const BusConfig& b) { return b.name == meter.bus; });
        if (bus != buses.end() && bus->framing == Framing::Tcp &&
            meter.protocol != Protocol::Modbus) {
            s.error("protocol", *protocol,
                    "bus " + in_quotes(bus->name) +
                        " has framing = \"tcp\" (Modbus TCP), which carries only modbus meters; "
                        "expected protocol = \"modbus\", or framing = \"rtu\" on that bus");
        }
        return true;
    }

    // The address format depends on the protocol, so it is only checked when
    // the protocol is known; `protocol` is empty when it is not.
    void read_address(const Section& s, const std::string& path, std::optional<Protocol> protocol,
                      MeterConfig& meter) {
        const std::size_t digits = protocol == Protocol::Cjt188 ? 14 : 12;
        if (const toml::node* node = s.find("address"); node != nullptr && node->is_integer()) {
            // A bare number has already lost its leading zeros.
            const std::int64_t v = node->as_integer()->get();
            std::string message = found_expected(
                *node, std::to_string(digits) + " digits as a string in double quotes");
            if (v >= 0 && std::to_string(v).size() <= digits) {
                std::string text = std::to_string(v);
                message +=
                    ", e.g. address = \"" + std::string(digits - text.size(), '0') + text + "\"";
            }
            s.error("address", *node, std::move(message));
            return;
        }
        if (!protocol && s.has("unit") && !s.has("address")) return;  // a modbus meter, probably
        if (const toml::node* unit = s.find("unit"); unit != nullptr && protocol) {
            s.error("unit", *unit,
                    "'unit' is the address of a modbus meter; a " +
                        std::string(to_string(*protocol)) + " meter is addressed by 'address'");
        }
        const auto* address =
            s.required_string("address", protocol == Protocol::Cjt188
                                             ? "the meter's 14-digit address from its nameplate"
                                             : "the meter's 12-digit address from its nameplate");
        if (address == nullptr || !protocol) return;
        const auto problem = *protocol == Protocol::Cjt188
                                 ? cjt188_address_problem(address->get())
                                 : dlt645_address_problem(address->get(), *protocol);
        if (problem) {
            s.error("address", *address, *problem);
            return;
        }
        // Two meters answering to one address on a bus collide on the wire. Both DL/T 645
        // editions share one address space (the same frame); CJ/T 188's is its own.
        const std::string family = *protocol == Protocol::Cjt188 ? "cjt188" : "dlt645";
        claim_address(s, "address", *address, path, meter.bus, family, address->get());
        meter.address = address->get();
    }

    void claim_address(const Section& s, std::string_view key, const toml::node& at,
                       const std::string& path, const std::string& bus, const std::string& family,
                       const std::string& value) {
        if (bus.empty()) return;
        const std::string bus_key = bus + '\n' + family + '\n' + value;
        if (const Seen* first = find_seen(meter_addresses_, bus_key)) {
            s.error(key, at,
                    std::string(key) + " " + value + " is already used by " + first->path +
                        " (line " + std::to_string(first->line) + ") on bus " + in_quotes(bus) +
                        "; two meters with one " + std::string(key) +
                        " on a bus answer at once and garble each other");
            return;
        }
        meter_addresses_.push_back({bus_key, path, line_of(at)});
    }

    static std::optional<std::string> dlt645_address_problem(const std::string& address,
                                                             Protocol protocol) {
        if (equals_ignoring_case(address, "AAAAAAAAAAAA")) {
            return "found " + in_quotes(address) +
                   ", the wildcard address: any meter on the bus answers it, so with more than "
                   "one meter the answers collide and readings could come from the wrong "
                   "meter; expected the meter's own 12-digit address (on its nameplate)";
        }
        if (address == "999999999999") {
            return "found " + in_quotes(address) +
                   ", the broadcast address: meters never answer it (it is for commands such "
                   "as time sync), so the meter could not be read; expected the meter's own "
                   "12-digit address (on its nameplate)";
        }
        if (is_digits(address) && address.size() == 12) return std::nullopt;
        std::string message = "found " + in_quotes(address) +
                              ", expected exactly 12 decimal digits for " +
                              std::string(to_string(protocol));
        if (is_digits(address) && address.size() < 12) {
            message += " (pad with leading zeros: \"" + std::string(12 - address.size(), '0') +
                       address + "\")";
        } else {
            message += ", e.g. \"000000000101\"";
        }
        return message;
    }

    static std::optional<std::string> cjt188_address_problem(const std::string& address) {
        if (equals_ignoring_case(address, std::string(14, 'A'))) {
            return "found " + in_quotes(address) +
                   ", the wildcard address: any meter on the bus answers it, so readings could "
                   "come from the wrong meter; expected the meter's own 14-digit address (on "
                   "its nameplate)";
        }
        if (is_digits(address) && address.size() == 14) return std::nullopt;
        std::string message =
            "found " + in_quotes(address) + ", expected exactly 14 decimal digits for cjt188";
        if (is_digits(address) && address.size() < 14) {
            message += " (pad with leading zeros: \"" + std::string(14 - address.size(), '0') +
                       address + "\")";
        } else {
            message += ", e.g. \"12345678901234\"";
        }
        return message;
    }

    // protocol = "modbus": unit = 1..247 instead of an address.
    void read_unit(const Section& s, const std::string& path, MeterConfig& meter) {
        if (const toml::node* node = s.find("address")) {
            s.error("address", *node,
                    "a modbus meter is addressed by unit = 1..247 (its Modbus slave id), not "
                    "by 'address'; write unit = … instead");
        }
        const auto* unit = s.required_integer("unit", "the meter's Modbus unit (slave) id, 1..247");
        if (unit == nullptr) return;
        const std::int64_t v = unit->get();
        if (v < 1 || v > 247) {
            std::string why;
            if (v == 0) why = " (0 is broadcast: meters never answer it)";
            if (v >= 248 && v <= 255) why = " (248..255 are reserved by the Modbus standard)";
            s.error("unit", *unit, "found " + std::to_string(v) + why + ", expected 1..247");
            return;
        }
        claim_address(s, "unit", *unit, path, meter.bus, "modbus", std::to_string(v));
        meter.unit = static_cast<int>(v);
    }

    const Profile* read_profile(const Section& s, MeterConfig& meter) {
        const auto* name = s.required_string(
            "profile", "the meter model's profile, e.g. profile = \"eastron-sdm120\"");
        if (name == nullptr) return nullptr;
        meter.profile = name->get();
        if (!profiles_loaded_) return nullptr;  // the directory's error is reported already
        if (const Profile* profile = find_profile(*profiles_, name->get())) return profile;
        if (broken_profiles_.contains(name->get())) return nullptr;  // its file's errors say why
        std::vector<std::string_view> known;
        for (const Profile& p : *profiles_) known.push_back(p.name);
        std::string message = "no profile is named " + in_quotes(name->get()) +
                              did_you_mean(name->get(), known) + " in " +
                              in_quotes(profiles_dir_.string());
        message += known.empty() ? "; the directory has no *.toml profiles"
                                 : "; known profiles: " + join(known);
        s.error("profile", *name, std::move(message));
        return nullptr;
    }

    // Whether the kind is certain: written and valid, or the default of a known
    // protocol (for modbus: of a profile that loaded).
    bool read_kind(const Section& s, bool protocol_ok, const Profile* profile, MeterConfig& meter) {
        const auto* kind = s.string("kind");
        if (kind == nullptr) {
            if (profile != nullptr && profile->kind == "water") meter.kind = MeterKind::Water;
            if (protocol_ok && meter.protocol == Protocol::Cjt188 && !s.has("kind")) {
                meter.kind = MeterKind::Water;  // CJ/T 188 is the water/heat/gas standard
            }
            return !s.has("kind") && protocol_ok &&
                   (meter.protocol != Protocol::Modbus || profile != nullptr);
        }
        if (kind->get() == "electricity") {
            meter.kind = MeterKind::Electricity;
        } else if (kind->get() == "water") {
            meter.kind = MeterKind::Water;
        } else {
            s.error("kind", *kind,
                    "found " + in_quotes(kind->get()) + ", expected one of " + quoted_list(kKinds));
            return false;
        }
        if (profile != nullptr && profile->kind != kind->get()) {
            s.error("kind", *kind,
                    "found " + in_quotes(kind->get()) + ", but profile " +
                        in_quotes(profile->name) + " is a " + profile->kind +
                        " meter; expected kind = " + in_quotes(profile->kind) +
                        " or no kind (it comes from the profile)");
            return false;
        }
        return true;
    }

    void read_meter_type(const Section& s, bool protocol_ok, MeterConfig& meter) {
        const auto* type = s.string("meter_type");
        if (type == nullptr) return;
        if (protocol_ok && meter.protocol != Protocol::Cjt188) {
            s.error("meter_type", *type,
                    "'meter_type' is the CJ/T 188 meter type; this meter's protocol is " +
                        std::string(to_string(meter.protocol)));
            return;
        }
        const auto it = std::find(kMeterTypes.begin(), kMeterTypes.end(), type->get());
        if (it == kMeterTypes.end()) {
            s.error("meter_type", *type,
                    "found " + in_quotes(type->get()) + did_you_mean(type->get(), kMeterTypes) +
                        ", expected one of " + quoted_list(kMeterTypes));
            return;
        }
        meter.meter_type = static_cast<MeterType>(it - kMeterTypes.begin());
    }

    static void read_serial_overrides(const Section& s, MeterConfig& meter) {
        meter.baud = s.integer_choice("baud", kStandardBauds);
        meter.parity = parity(s, "parity");
        meter.data_bits = s.integer_choice("data_bits", kDataBits);
        meter.stop_bits = s.integer_choice("stop_bits", kStopBits);
        if (auto v = s.integer_in("timeout_ms", {50, 10000, "ms"})) {
            meter.timeout_ms = static_cast<int>(*v);
        }
    }

    // DL/T 645 control credentials: only meaningful for DL/T 645 meters.
    static void read_credentials(const Section& s, bool protocol_ok, MeterConfig& meter) {
        if (protocol_ok && !is_dlt645(meter.protocol)) {
            for (std::string_view key : {"password", "privilege", "operator", "control_valid_s"}) {
                if (const toml::node* node = s.find(key)) {
                    s.error(key, *node,
                            "'" + std::string(key) +
                                "' is a DL/T 645 control setting; this meter's protocol is " +
                                std::string(to_string(meter.protocol)));
                }
            }
            return;
        }
        digits_key(s, "password", 6, "the meter's 6-digit password, e.g. \"000000\"",
                   meter.password);
        s.integer("privilege", meter.privilege, {0, 9, ""});
        digits_key(s, "operator", 8, "the 8-digit operator code, e.g. \"00000001\"",
                   meter.operator_code);
        s.integer("control_valid_s", meter.control_valid_s, {10, 86400, "s"});
    }

    // A fixed number of digits in quotes (a bare number loses its leading zeros).
    static void digits_key(const Section& s, std::string_view key, std::size_t digits,
                           std::string_view what, std::string& out) {
        const toml::node* node = s.find(key);
        if (node == nullptr) return;
        const auto* text = node->as_string();
        if (text == nullptr || !is_digits(text->get()) || text->get().size() != digits) {
            std::string message = text != nullptr
                                      ? "found " + in_quotes(text->get()) + ", expected " +
                                            std::to_string(digits) + " decimal digits"
                                      : found_expected(*node, std::to_string(digits) +
                                                                  " digits as a string in "
                                                                  "double quotes");
            s.error(key, *node, message + " (" + std::string(what) + ")");
            return;
        }
        out = text->get();
    }

    static void read_relay(const Section& s, bool protocol_ok, const Profile* profile,
                           MeterConfig& meter) {
        const bool switchable =
            profile != nullptr && (profile->relay.has_value() || profile->valve.has_value());
        if (protocol_ok && meter.protocol == Protocol::Modbus) meter.relay = switchable;
        const auto* relay = s.boolean("relay");
        if (relay == nullptr) return;
        meter.relay = relay->get();
        if (relay->get() && protocol_ok && meter.protocol == Protocol::Dlt645_1997) {
            // Prepaid would count on a cut the meter can never make.
            s.error("relay", *relay,
                    "found true, but DL/T 645-1997 has no remote relay command, so the "
                    "gateway could never cut this meter; expected false (and keep_power on "
                    "its account, or a DL/T 645-2007 meter where supply must be cut)");
        }
        if (relay->get() && profile != nullptr && !switchable) {
            s.error("relay", *relay,
                    "found true, but profile " + in_quotes(profile->name) +
                        " describes no [relay] or [valve]; expected false, or a profile that "
                        "says how to switch this model");
        }
    }

    void read_quantities(const Section& s, bool protocol_ok, const Profile* profile,
                         MeterConfig& meter) {
        const toml::node* node = s.find("quantities");
        if (node == nullptr) return;
        const toml::array* array = node->as_array();
        if (array == nullptr) {
            s.error("quantities", *node,
                    found_expected(*node, "an array of quantity names, e.g. [\"energy_kwh\"]"));
            return;
        }
        // A modbus meter whose profile is missing or broken: its error is reported already.
        const bool check_names =
            protocol_ok && (meter.protocol != Protocol::Modbus || profile != nullptr);
        const std::vector<std::string_view> names =
            check_names ? quantity_names(meter.protocol, profile) : std::vector<std::string_view>{};
        for (std::size_t i = 0; i < array->size(); ++i) {
            const toml::node& element = *array->get(i);
            const std::string key = indexed("quantities", i);
            const auto* name = element.as_string();
            if (name == nullptr) {
                s.error(key, element, found_expected(element, "a quantity name as a string"));
                continue;
            }
            if (!check_names) continue;
            if (std::find(names.begin(), names.end(), name->get()) == names.end()) {
                std::string source = std::string(to_string(meter.protocol));
                if (profile != nullptr) source = "profile " + in_quotes(profile->name);
                s.error(key, element,
                        "unknown quantity " + in_quotes(name->get()) +
                            did_you_mean(name->get(), names) + "; expected one of (" + source +
                            "): " + join(names));
                continue;
            }
            if (std::find(meter.quantities.begin(), meter.quantities.end(), name->get()) !=
                meter.quantities.end()) {
                s.error(key, element, in_quotes(name->get()) + " is listed twice");
                continue;
            }
            meter.quantities.push_back(name->get());
        }
    }

    const toml::table& root_;
    Errors& errors_;
    std::filesystem::path base_dir_;
    std::filesystem::path profiles_dir_;
    const toml::node* profiles_dir_node_ = nullptr;
    bool profiles_dir_ok_ = true;
    bool profiles_loaded_ = false;
    const std::vector<Profile>* profiles_ = nullptr;
    std::set<std::string, std::less<>> broken_profiles_;
    std::vector<Seen> bus_names_;
    std::vector<Seen> bus_devices_;
    std::vector<Seen> bus_endpoints_;  // host:port of serial servers
    std::vector<Seen> meter_ids_;
    std::vector<Seen> meter_addresses_;  // bus + '\n' + family + '\n' + address
    PrepaidReader prepaid_{errors_};
};

}  // namespace

// ---------------------------------------------------------------------------

const BusConfig* Config::find_bus(std::string_view name) const {
    auto it = std::find_if(buses.begin(), buses.end(),
                           [name](const BusConfig& b) { return b.name == name; });
    return it == buses.end() ? nullptr : &*it;
}

const MeterConfig* Config::find_meter(std::string_view id) const {
    auto it = std::find_if(meters.begin(), meters.end(),
                           [id](const MeterConfig& m) { return m.id == id; });
    return it == meters.end() ? nullptr : &*it;
}

const prepaid::Tariff* Config::find_tariff(std::string_view id) const {
    auto it = std::find_if(tariffs.begin(), tariffs.end(),
                           [id](const prepaid::Tariff& t) { return t.id == id; });
    return it == tariffs.end() ? nullptr : &*it;
}

const AccountConfig* Config::find_account(std::string_view id) const {
    auto it = std::find_if(accounts.begin(), accounts.end(),
                           [id](const AccountConfig& a) { return a.id == id; });
    return it == accounts.end() ? nullptr : &*it;
}

const prepaid::Tariff* Config::tariff_of(const MeterConfig& meter) const {
    if (meter.account.empty()) return nullptr;
    if (!meter.tariff.empty()) return find_tariff(meter.tariff);
    const AccountConfig* account = find_account(meter.account);
    if (account == nullptr) return nullptr;
    const prepaid::Utility utility =
        meter.kind == MeterKind::Water ? prepaid::Utility::Water : prepaid::Utility::Electricity;
    for (const std::string& id : account->tariffs) {
        const prepaid::Tariff* tariff = find_tariff(id);
        if (tariff != nullptr && tariff->utility == utility) return tariff;
    }
    return nullptr;
}

const Profile* Config::profile_of(const MeterConfig& meter) const {
    if (meter.protocol != Protocol::Modbus) return nullptr;
    return find_profile(profiles, meter.profile);
}

std::string ConfigError::to_string() const {
    std::string out = file;
    if (line > 0) {
        out += ":" + std::to_string(line);
        if (column > 0) out += ":" + std::to_string(column);
    }
    out += ": ";
    if (!key.empty()) out += key + ": ";
    return out + message;
}

Expected<Config, ConfigErrors> parse_config(std::string_view text, std::string_view file_name,
                                            std::span<const Provisioned> provisioned) {
    Errors errors{std::string(file_name)};
    try {
        std::optional<toml::table> root = parse_toml(text, file_name, errors);
        if (!root) return unexpected(errors.take());
        lay_over(*root, provisioned, errors);
        const std::filesystem::path base_dir = std::filesystem::path(file_name).parent_path();
        Config config = Parser(*root, errors, base_dir).run();
        if (!errors.empty()) return unexpected(errors.take());
        config.source = file_name;
        return config;
    } catch (const std::exception& e) {
        // Only allocation failures can land here; the daemon must still get an
        // answer, not an exception.
        errors.add_unplaced("", std::string("cannot check the file: ") + e.what());
        return unexpected(errors.take());
    }
}

Expected<Config, ConfigErrors> load_config(const std::filesystem::path& path,
                                           std::span<const Provisioned> provisioned) {
    Expected<std::string> text = read_file(path);
    if (!text) {
        return unexpected(ConfigErrors{ConfigError{path.string(), 0, 0, "", text.error().message}});
    }
    auto config = parse_config(*text, path.string(), provisioned);
    if (config) config->source = path;
    return config;
}

std::string_view to_string(Protocol p) {
    switch (p) {
        case Protocol::Dlt645_2007:
            return kDlt645_2007;
        case Protocol::Dlt645_1997:
            return kDlt645_1997;
        case Protocol::Cjt188:
            return kCjt188;
        case Protocol::Modbus:
            return kModbus;
    }
    return "unknown";
}

std::string_view to_string(MeterKind k) {
    switch (k) {
        case MeterKind::Electricity:
            return "electricity";
        case MeterKind::Water:
            return "water";
    }
    return "unknown";
}

std::string_view to_string(MeterType t) {
    const auto i = static_cast<std::size_t>(t);
    return i < kMeterTypes.size() ? kMeterTypes[i] : "unknown";
}

std::string_view to_string(Transport t) { return t == Transport::Tcp ? "tcp" : "serial"; }

std::string_view to_string(Framing f) { return f == Framing::Tcp ? "tcp" : "rtu"; }

char to_char(Parity p) {
    switch (p) {
        case Parity::None:
            return 'N';
        case Parity::Even:
            return 'E';
        case Parity::Odd:
            return 'O';
    }
    return '?';
}

}  // namespace ecmgw::config
