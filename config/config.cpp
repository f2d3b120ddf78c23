// Loading and validating the gateway's TOML configuration.
//
// A technician edits this file on site, often over a slow console, so the
// whole file is checked in one pass and every mistake is reported at once with
// file:line:column, what was found and what was expected. Nothing here throws:
// toml++'s exceptions are caught at the edge and turned into ConfigErrors.
#include "ecmgw/config/config.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <sstream>
#include <system_error>
#include <utility>

#include "ecmgw/protocols/dlt645.hpp"

namespace ecmgw::config {

namespace {

// ---------------------------------------------------------------------------
// The schema: every key each table may hold, in the order the docs list them.

using Keys = std::span<const std::string_view>;

constexpr std::array<std::string_view, 4> kRootKeys{"gateway", "cloud", "bus", "meter"};
constexpr std::array<std::string_view, 3> kGatewayKeys{"id", "data_dir", "timezone"};
constexpr std::array<std::string_view, 6> kCloudKeys{
    "uri", "topic_prefix", "client_id", "keepalive_s", "batch_max_records", "batch_max_delay_ms"};
constexpr std::array<std::string_view, 10> kBusKeys{
    "name",      "device",    "baud",       "parity",
    "data_bits", "stop_bits", "timeout_ms", "inter_byte_timeout_ms",
    "gap_ms",    "retries"};
constexpr std::array<std::string_view, 7> kMeterKeys{"id",   "bus",        "protocol",  "address",
                                                     "kind", "interval_s", "quantities"};

constexpr std::array<int, 10> kStandardBauds{300,  600,   1200,  2400,  4800,
                                             9600, 19200, 38400, 57600, 115200};
constexpr std::array<int, 2> kDataBits{7, 8};
constexpr std::array<int, 2> kStopBits{1, 2};

constexpr std::string_view kDlt645_2007 = "dlt645-2007";
constexpr std::array<std::string_view, 1> kProtocols{kDlt645_2007};
constexpr std::array<std::string_view, 2> kKinds{"electricity", "water"};

constexpr std::string_view kZoneinfoDir = "/usr/share/zoneinfo/";
// A config file is a few kilobytes; the cap stops a wrong path such as
// /dev/zero from eating the box's memory.
constexpr std::size_t kMaxConfigBytes = 1024 * 1024;
constexpr std::size_t kMaxIdLength = 64;
constexpr std::size_t kMaxClientIdLength = 128;

// ---------------------------------------------------------------------------
// Text helpers for messages.

std::string lowercase(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
    return lowercase(a) == lowercase(b);
}

// A value as the technician wrote it, in double quotes, escaped and shortened
// so that a stray binary blob cannot flood the terminal.
std::string in_quotes(std::string_view s) {
    constexpr std::size_t kMaxShown = 60;
    bool cut = false;
    if (s.size() > kMaxShown) {
        std::size_t end = kMaxShown;
        // Never split a UTF-8 sequence: back up over continuation bytes.
        while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
        s = s.substr(0, end);
        cut = true;
    }
    std::string out = "\"";
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20 || u == 0x7F) {
            static constexpr char kHex[] = "0123456789ABCDEF";
            out += "\\x";
            out += kHex[u >> 4];
            out += kHex[u & 0x0F];
        } else {
            out += c;
        }
    }
    out += cut ? "…\"" : "\"";
    return out;
}

template <class Range>
std::string join(const Range& items, std::string_view separator = ", ") {
    std::ostringstream out;
    bool first = true;
    for (const auto& item : items) {
        if (!first) out << separator;
        out << item;
        first = false;
    }
    return out.str();
}

std::string quoted_list(Keys items) {
    std::vector<std::string> q;
    for (std::string_view item : items) q.push_back(in_quotes(item));
    return join(q);
}

// Optimal string alignment distance: like Levenshtein, but a swap of two
// neighbouring letters ("buad") counts as one typo, as a person would count it.
std::size_t edit_distance(std::string_view a, std::string_view b) {
    const std::size_t n = a.size();
    const std::size_t m = b.size();
    std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1));
    for (std::size_t i = 0; i <= n; ++i) d[i][0] = i;
    for (std::size_t j = 0; j <= m; ++j) d[0][j] = j;
    for (std::size_t i = 1; i <= n; ++i) {
        for (std::size_t j = 1; j <= m; ++j) {
            const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
            }
        }
    }
    return d[n][m];
}

// The key the technician probably meant. Besides small typos, a word that
// only adds or drops a suffix counts ("baudrate" → "baud", "timeout" →
// "timeout_ms"): forgetting the unit suffix is the commonest slip.
std::optional<std::string_view> suggest(std::string_view word, Keys candidates) {
    const std::string w = lowercase(word);
    std::optional<std::string_view> best;
    std::size_t best_distance = 3;
    for (std::string_view c : candidates) {
        const std::size_t d = edit_distance(w, c);
        if (d < best_distance && d < w.size()) {
            best = c;
            best_distance = d;
        }
    }
    if (best) return best;
    constexpr std::size_t kMinStem = 3;
    std::optional<std::string_view> by_prefix;
    for (std::string_view c : candidates) {
        const bool related = (w.size() >= kMinStem && c.starts_with(w)) ||
                             (c.size() >= kMinStem && std::string_view(w).starts_with(c));
        if (!related) continue;
        if (by_prefix) return std::nullopt;  // ambiguous: better no hint than a wrong one
        by_prefix = c;
    }
    return by_prefix;
}

// What a TOML value is, for "found …" in messages: `string "2400"`, `integer 7`.
std::string describe(const toml::node& node) {
    std::ostringstream out;
    switch (node.type()) {
        case toml::node_type::string:
            return "string " + in_quotes(node.as_string()->get());
        case toml::node_type::integer:
            return "integer " + std::to_string(node.as_integer()->get());
        case toml::node_type::floating_point:
            out << "floating-point number " << *node.as_floating_point();
            return out.str();
        case toml::node_type::boolean:
            return node.as_boolean()->get() ? "boolean true" : "boolean false";
        case toml::node_type::date:
            out << "date " << *node.as_date();
            return out.str();
        case toml::node_type::time:
            out << "time " << *node.as_time();
            return out.str();
        case toml::node_type::date_time:
            out << "date-time " << *node.as_date_time();
            return out.str();
        case toml::node_type::array:
            return node.as_array()->is_array_of_tables() ? "an array of tables" : "an array";
        case toml::node_type::table:
            return "a table";
        case toml::node_type::none:
            break;
    }
    return "nothing";
}

std::string found_expected(const toml::node& node, std::string_view expected) {
    return "found " + describe(node) + ", expected " + std::string(expected);
}

// ---------------------------------------------------------------------------
// Value checks. Each returns what is wrong, in words, or nothing when fine.

bool is_identifier(std::string_view s) {
    if (s.empty() || s.size() > kMaxIdLength) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
    });
}

constexpr std::string_view kIdentifierRule =
    "1 to 64 characters, each a letter A-Z/a-z, a digit, '-' or '_'";

bool is_digits(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

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

std::optional<Parity> parse_parity(std::string_view s) {
    if (s == "N" || equals_ignoring_case(s, "none")) return Parity::None;
    if (s == "E" || equals_ignoring_case(s, "even")) return Parity::Even;
    if (s == "O" || equals_ignoring_case(s, "odd")) return Parity::Odd;
    return std::nullopt;
}

std::string known_quantities() {
    std::vector<std::string_view> names;
    for (const auto& item : dlt645::known_data_items()) names.push_back(item.quantity);
    return join(names);
}

std::optional<std::string_view> suggest_quantity(std::string_view word) {
    std::vector<std::string_view> names;
    for (const auto& item : dlt645::known_data_items()) names.push_back(item.quantity);
    return suggest(word, names);
}

// ---------------------------------------------------------------------------
// Error collection.

class Errors {
  public:
    explicit Errors(std::string file) : file_(std::move(file)) {}

    void add(const toml::source_region& where, std::string key, std::string message) {
        errors_.push_back(ConfigError{file_, static_cast<int>(where.begin.line),
                                      static_cast<int>(where.begin.column), std::move(key),
                                      std::move(message)});
    }
    // For mistakes that have no place in the file, such as a missing [gateway].
    void add_unplaced(std::string key, std::string message) {
        errors_.push_back(ConfigError{file_, 0, 0, std::move(key), std::move(message)});
    }
    bool empty() const { return errors_.empty(); }

    // In file order, so a technician can fix them top to bottom; the checks
    // themselves run table by table (toml++ keeps keys sorted by name).
    ConfigErrors take() {
        std::stable_sort(errors_.begin(), errors_.end(),
                         [](const ConfigError& a, const ConfigError& b) {
                             return std::pair(a.line, a.column) < std::pair(b.line, b.column);
                         });
        return std::move(errors_);
    }

  private:
    std::string file_;
    ConfigErrors errors_;
};

struct IntRange {
    std::int64_t lo;
    std::int64_t hi;
    std::string_view unit;  // "ms", "s", or empty
};

std::string integer_type_hint(const toml::node& node) {
    if (const auto* s = node.as_string(); s && is_digits(s->get())) {
        return " (write it without quotes: " + s->get() + ")";
    }
    if (const auto* f = node.as_floating_point()) {
        const double v = f->get();
        if (v == static_cast<double>(static_cast<std::int64_t>(v))) {
            return " (write it without a decimal point: " +
                   std::to_string(static_cast<std::int64_t>(v)) + ")";
        }
    }
    return {};
}

// One table of the schema ([gateway], one [[bus]], …): reads its keys by
// name and reports every mistake under the table's key path.
class Section {
  public:
    Section(Errors& errors, const toml::table& table, std::string path, Keys keys)
        : errors_(errors), table_(table), path_(std::move(path)), keys_(keys) {}

    std::string path_of(std::string_view key) const {
        return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
    }
    const toml::node* find(std::string_view key) const { return table_.get(key); }

    void error(std::string_view key, const toml::node& at, std::string message) const {
        errors_.add(at.source(), path_of(key), std::move(message));
    }

    void check_unknown_keys() const {
        for (auto&& [key, value] : table_) {
            const std::string_view name = key.str();
            if (std::find(keys_.begin(), keys_.end(), name) != keys_.end()) continue;
            std::string message = "unknown key '" + std::string(name) + "'";
            if (auto hint = suggest(name, keys_)) {
                message += " (did you mean '" + std::string(*hint) + "'?)";
            }
            message += "; expected one of: " + join(keys_);
            errors_.add(key.source(), path_of(name), std::move(message));
        }
    }

    // A missing required key is reported at the table's header line: that is
    // where the technician has to add it.
    const toml::value<std::string>* required_string(std::string_view key,
                                                    std::string_view what) const {
        const toml::node* node = find(key);
        if (node == nullptr) {
            errors_.add(
                table_.source(), path_of(key),
                "missing required key '" + std::string(key) + "' (" + std::string(what) + ")");
            return nullptr;
        }
        return string(key);
    }

    const toml::value<std::string>* string(std::string_view key) const {
        const toml::node* node = find(key);
        if (node == nullptr) return nullptr;
        if (const auto* s = node->as_string()) return s;
        error(key, *node, found_expected(*node, "a string (text in double quotes)"));
        return nullptr;
    }

    const toml::value<std::int64_t>* integer_node(std::string_view key) const {
        const toml::node* node = find(key);
        if (node == nullptr) return nullptr;
        if (const auto* i = node->as_integer()) return i;
        error(key, *node, found_expected(*node, "an integer") + integer_type_hint(*node));
        return nullptr;
    }

    void integer(std::string_view key, int& out, IntRange range) const {
        const auto* value = integer_node(key);
        if (value == nullptr) return;
        const std::int64_t v = value->get();
        if (v < range.lo || v > range.hi) {
            std::string expected = std::to_string(range.lo) + ".." + std::to_string(range.hi);
            if (!range.unit.empty()) expected += " " + std::string(range.unit);
            error(key, *value, "found " + std::to_string(v) + ", expected " + expected);
            return;
        }
        out = static_cast<int>(v);
    }

    void integer_choice(std::string_view key, int& out, std::span<const int> allowed) const {
        const auto* value = integer_node(key);
        if (value == nullptr) return;
        const std::int64_t v = value->get();
        if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
            error(key, *value, "found " + std::to_string(v) + ", expected one of " + join(allowed));
            return;
        }
        out = static_cast<int>(v);
    }

  private:
    Errors& errors_;
    const toml::table& table_;
    std::string path_;
    Keys keys_;
};

// A value seen earlier in the file, to point back at when it is repeated.
struct Seen {
    std::string value;
    std::string path;  // "bus[1]"
    int line = 0;
};

const Seen* find_seen(const std::vector<Seen>& seen, std::string_view value) {
    auto it =
        std::find_if(seen.begin(), seen.end(), [value](const Seen& s) { return s.value == value; });
    return it == seen.end() ? nullptr : &*it;
}

int line_of(const toml::node& node) { return static_cast<int>(node.source().begin.line); }

std::string indexed(std::string_view table, std::size_t index) {
    return std::string(table) + "[" + std::to_string(index + 1) + "]";
}

// ---------------------------------------------------------------------------
// The whole file.

class Parser {
  public:
    Parser(const toml::table& root, Errors& errors) : root_(root), errors_(errors) {}

    Config run() {
        Config config;
        check_root_keys();
        read_gateway(config.gateway);
        read_cloud(config.cloud);
        if (config.cloud.client_id.empty() && !config.gateway.id.empty()) {
            config.cloud.client_id = "ecmgw-" + config.gateway.id;
        }
        // Buses first, whatever the file's order: meters refer to them.
        read_buses(config.buses);
        read_meters(config.meters);
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
        } else if (auto hint = suggest(name, kRootKeys)) {
            message += " (did you mean '" + std::string(*hint) + "'?)";
        }
        return message + "; expected one of: [gateway], [cloud], [[bus]], [[meter]]";
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
    }

    void read_cloud(CloudConfig& cloud) {
        const toml::table* table = single_table("cloud");
        if (table == nullptr) return;
        const Section s(errors_, *table, "cloud", kCloudKeys);
        s.check_unknown_keys();
        if (const auto* uri = s.string("uri")) {
            if (auto problem = uri_problem(uri->get())) {
                s.error("uri", *uri,
                        "found " + in_quotes(uri->get()) + ": " + *problem +
                            "; expected tcp://host:port, ssl://host:port, mqtt://host:port or "
                            "mqtts://host:port, e.g. \"tcp://127.0.0.1:1883\"");
            } else {
                cloud.uri = uri->get();
            }
        }
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
        if (const auto* device =
                s.required_string("device", "the serial port, e.g. device = \"/dev/ttyUSB0\"")) {
            read_bus_device(s, *device, path, bus);
        }
        s.integer_choice("baud", bus.baud, kStandardBauds);
        if (const auto* parity = s.string("parity")) {
            if (auto p = parse_parity(parity->get())) {
                bus.parity = *p;
            } else {
                s.error("parity", *parity,
                        "found " + in_quotes(parity->get()) +
                            ", expected \"N\", \"E\" or \"O\" (or \"none\", \"even\", \"odd\")");
            }
        }
        s.integer_choice("data_bits", bus.data_bits, kDataBits);
        s.integer_choice("stop_bits", bus.stop_bits, kStopBits);
        s.integer("timeout_ms", bus.timeout_ms, {50, 10000, "ms"});
        s.integer("inter_byte_timeout_ms", bus.inter_byte_timeout_ms, {10, 5000, "ms"});
        s.integer("gap_ms", bus.gap_ms, {0, 2000, "ms"});
        s.integer("retries", bus.retries, {0, 5, ""});
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

    void read_meters(std::vector<MeterConfig>& meters) {
        const toml::array* array = table_array("meter");
        if (array == nullptr) return;
        for_each_table(*array, "meter", [&](const toml::table& table, const std::string& path) {
            meters.push_back(read_meter(Section(errors_, table, path, kMeterKeys), path));
        });
    }

    MeterConfig read_meter(const Section& s, const std::string& path) {
        MeterConfig meter;
        s.check_unknown_keys();
        if (const auto* id = s.required_string("id", "the meter's id, e.g. id = \"E-0101\"")) {
            read_meter_id(s, *id, path, meter);
        }
        if (const auto* bus = s.required_string("bus", "the name of its [[bus]]")) {
            read_meter_bus(s, *bus, meter);
        }
        const bool protocol_ok = read_protocol(s, meter);
        read_address(s, path, protocol_ok, meter);
        if (const auto* kind = s.string("kind")) {
            if (kind->get() == "electricity") {
                meter.kind = MeterKind::Electricity;
            } else if (kind->get() == "water") {
                meter.kind = MeterKind::Water;
            } else {
                s.error(
                    "kind", *kind,
                    "found " + in_quotes(kind->get()) + ", expected one of " + quoted_list(kKinds));
            }
        }
        s.integer("interval_s", meter.interval_s, {1, 86400, "s"});
        read_quantities(s, protocol_ok, meter);
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

    bool read_protocol(const Section& s, MeterConfig& meter) {
        const auto* protocol = s.required_string("protocol", "protocol = \"dlt645-2007\"");
        if (protocol == nullptr) return false;
        if (protocol->get() == kDlt645_2007) {
            meter.protocol = Protocol::Dlt645_2007;
            return true;
        }
        s.error("protocol", *protocol,
                "found " + in_quotes(protocol->get()) +
                    ", expected one of the supported protocols: " + quoted_list(kProtocols));
        return false;
    }

    // The address format depends on the protocol, so it is only checked when
    // the protocol is known.
    void read_address(const Section& s, const std::string& path, bool protocol_ok,
                      MeterConfig& meter) {
        if (const toml::node* node = s.find("address"); node != nullptr && node->is_integer()) {
            // A bare number has already lost its leading zeros.
            const std::int64_t v = node->as_integer()->get();
            std::string message = found_expected(*node, "12 digits as a string in double quotes");
            if (v >= 0 && v <= 999'999'999'999) {
                std::string digits = std::to_string(v);
                message +=
                    ", e.g. address = \"" + std::string(12 - digits.size(), '0') + digits + "\"";
            }
            s.error("address", *node, std::move(message));
            return;
        }
        const auto* address =
            s.required_string("address", "the meter's 12-digit address from its nameplate");
        if (address == nullptr || !protocol_ok) return;
        if (auto problem = dlt645_address_problem(address->get())) {
            s.error("address", *address, std::move(*problem));
            return;
        }
        // Two meters answering to one address on a bus collide on the wire.
        const std::string bus_key = meter.bus + '\n' + address->get();
        if (!meter.bus.empty()) {
            if (const Seen* first = find_seen(meter_addresses_, bus_key)) {
                s.error("address", *address,
                        "address " + address->get() + " is already used by " + first->path +
                            " (line " + std::to_string(first->line) + ") on bus " +
                            in_quotes(meter.bus) +
                            "; two meters with one address on a bus answer at once and "
                            "garble each other");
                return;
            }
            meter_addresses_.push_back({bus_key, path, line_of(*address)});
        }
        meter.address = address->get();
    }

    static std::optional<std::string> dlt645_address_problem(const std::string& address) {
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
        std::string message =
            "found " + in_quotes(address) + ", expected exactly 12 decimal digits for dlt645-2007";
        if (is_digits(address) && address.size() < 12) {
            message += " (pad with leading zeros: \"" + std::string(12 - address.size(), '0') +
                       address + "\")";
        } else {
            message += ", e.g. \"000000000101\"";
        }
        return message;
    }

    void read_quantities(const Section& s, bool protocol_ok, MeterConfig& meter) {
        const toml::node* node = s.find("quantities");
        if (node == nullptr) return;
        const toml::array* array = node->as_array();
        if (array == nullptr) {
            s.error("quantities", *node,
                    found_expected(*node, "an array of quantity names, e.g. [\"energy_kwh\"]"));
            return;
        }
        for (std::size_t i = 0; i < array->size(); ++i) {
            const toml::node& element = *array->get(i);
            const std::string key = indexed("quantities", i);
            const auto* name = element.as_string();
            if (name == nullptr) {
                s.error(key, element, found_expected(element, "a quantity name as a string"));
                continue;
            }
            if (!protocol_ok) continue;
            if (dlt645::find_data_item(std::string_view(name->get())) == nullptr) {
                std::string message = "unknown quantity " + in_quotes(name->get());
                if (auto hint = suggest_quantity(name->get())) {
                    message += " (did you mean '" + std::string(*hint) + "'?)";
                }
                s.error(key, element,
                        message + "; expected one of (dlt645-2007): " + known_quantities());
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
    std::vector<Seen> bus_names_;
    std::vector<Seen> bus_devices_;
    std::vector<Seen> meter_ids_;
    std::vector<Seen> meter_addresses_;  // bus + '\n' + address
};

// toml++ stops at the first syntax error; it is reported with its place.
std::optional<toml::table> parse_toml(std::string_view text, std::string_view file_name,
                                      Errors& errors) {
#if TOML_EXCEPTIONS
    try {
        return toml::parse(text, file_name);
    } catch (const toml::parse_error& e) {
        errors.add(e.source(), "", "invalid TOML: " + std::string(e.description()));
        return std::nullopt;
    }
#else
    toml::parse_result result = toml::parse(text, file_name);
    if (!result) {
        errors.add(result.error().source(), "",
                   "invalid TOML: " + std::string(result.error().description()));
        return std::nullopt;
    }
    return std::move(result).table();
#endif
}

Expected<std::string> read_file(const std::filesystem::path& path) {
    errno = 0;
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                         &std::fclose);
    if (!file) return fail("cannot open: " + std::generic_category().message(errno));
    std::string text;
    std::array<char, 4096> buffer{};
    for (;;) {
        const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), file.get());
        text.append(buffer.data(), n);
        if (text.size() > kMaxConfigBytes) {
            return fail("cannot read: larger than 1 MiB, this is not a config file");
        }
        if (n < buffer.size()) break;
    }
    if (std::ferror(file.get()) != 0) {
        return fail("cannot read: " + std::generic_category().message(errno));
    }
    return text;
}

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

Expected<Config, ConfigErrors> parse_config(std::string_view text, std::string_view file_name) {
    Errors errors{std::string(file_name)};
    try {
        std::optional<toml::table> root = parse_toml(text, file_name, errors);
        if (!root) return unexpected(errors.take());
        Config config = Parser(*root, errors).run();
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

Expected<Config, ConfigErrors> load_config(const std::filesystem::path& path) {
    Expected<std::string> text = read_file(path);
    if (!text) {
        return unexpected(ConfigErrors{ConfigError{path.string(), 0, 0, "", text.error().message}});
    }
    auto config = parse_config(*text, path.string());
    if (config) config->source = path;
    return config;
}

std::string_view to_string(Protocol p) {
    switch (p) {
        case Protocol::Dlt645_2007:
            return kDlt645_2007;
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
