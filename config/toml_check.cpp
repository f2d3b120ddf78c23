// The checking pieces shared by the config and profile loaders: messages, error
// collection, typed key access with file:line:column, and reading files.
#include "toml_check.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <system_error>
#include <tuple>
#include <utility>

namespace ecmgw::config::check {

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

std::string quoted_list(Keys items) {
    std::vector<std::string> q;
    for (std::string_view item : items) q.push_back(in_quotes(item));
    return join(q);
}

namespace {

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

}  // namespace

// Besides small typos, a word that only adds or drops a suffix counts ("baudrate" →
// "baud", "timeout" → "timeout_ms"): forgetting the unit suffix is the commonest slip.
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
    // Among several related words the shortest is the plain one ("energy" → "energy_kwh",
    // not "energy_t1_kwh"); two of the same length are ambiguous, and no hint is better
    // than a wrong one.
    constexpr std::size_t kMinStem = 3;
    std::optional<std::string_view> by_prefix;
    bool tied = false;
    for (std::string_view c : candidates) {
        const bool related = (w.size() >= kMinStem && c.starts_with(w)) ||
                             (c.size() >= kMinStem && std::string_view(w).starts_with(c));
        if (!related) continue;
        if (!by_prefix || c.size() < by_prefix->size()) {
            by_prefix = c;
            tied = false;
        } else if (c.size() == by_prefix->size()) {
            tied = true;
        }
    }
    return tied ? std::nullopt : by_prefix;
}

std::string did_you_mean(std::string_view word, Keys candidates) {
    if (auto hint = suggest(word, candidates)) {
        return " (did you mean '" + std::string(*hint) + "'?)";
    }
    return {};
}

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

std::string integer_type_hint(const toml::node& node) {
    if (const auto* s = node.as_string(); s && is_digits(s->get())) {
        return " (write it without quotes: " + s->get() + ")";
    }
    if (const auto* f = node.as_floating_point()) {
        const double v = f->get();
        // The range check keeps the cast defined; 1e300 gets no hint.
        if (v > -9e15 && v < 9e15 && v == static_cast<double>(static_cast<std::int64_t>(v))) {
            return " (write it without a decimal point: " +
                   std::to_string(static_cast<std::int64_t>(v)) + ")";
        }
    }
    return {};
}

bool is_identifier(std::string_view s) {
    if (s.empty() || s.size() > kMaxIdLength) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
    });
}

bool is_digits(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int line_of(const toml::node& node) { return static_cast<int>(node.source().begin.line); }

std::string indexed(std::string_view table, std::size_t index) {
    return std::string(table) + "[" + std::to_string(index + 1) + "]";
}

// ---------------------------------------------------------------------------
// Error collection.

void Errors::add(const toml::source_region& where, std::string key, std::string message) {
    errors_.push_back(ConfigError{file_, static_cast<int>(where.begin.line),
                                  static_cast<int>(where.begin.column), std::move(key),
                                  std::move(message)});
}

void Errors::add_unplaced(std::string key, std::string message) {
    errors_.push_back(ConfigError{file_, 0, 0, std::move(key), std::move(message)});
}

void Errors::append_foreign(ConfigErrors more) {
    for (auto& e : more) foreign_.push_back(std::move(e));
}

ConfigErrors Errors::take() {
    std::stable_sort(errors_.begin(), errors_.end(),
                     [](const ConfigError& a, const ConfigError& b) {
                         return std::pair(a.line, a.column) < std::pair(b.line, b.column);
                     });
    std::stable_sort(
        foreign_.begin(), foreign_.end(), [](const ConfigError& a, const ConfigError& b) {
            return std::tie(a.file, a.line, a.column) < std::tie(b.file, b.line, b.column);
        });
    for (auto& e : foreign_) errors_.push_back(std::move(e));
    foreign_.clear();
    return std::move(errors_);
}

// ---------------------------------------------------------------------------
// Typed access to one table's keys.

std::string Section::path_of(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

void Section::error(std::string_view key, const toml::node& at, std::string message) const {
    errors_.add(at.source(), path_of(key), std::move(message));
}

void Section::error_at_header(std::string_view key, std::string message) const {
    errors_.add(table_.source(), path_of(key), std::move(message));
}

void Section::check_unknown_keys() const {
    for (auto&& [key, value] : table_) {
        const std::string_view name = key.str();
        if (std::find(keys_.begin(), keys_.end(), name) != keys_.end()) continue;
        errors_.add(key.source(), path_of(name),
                    "unknown key '" + std::string(name) + "'" + did_you_mean(name, keys_) +
                        "; expected one of: " + join(keys_));
    }
}

const toml::value<std::string>* Section::required_string(std::string_view key,
                                                         std::string_view what) const {
    if (find(key) == nullptr) {
        error_at_header(
            key, "missing required key '" + std::string(key) + "' (" + std::string(what) + ")");
        return nullptr;
    }
    return string(key);
}

const toml::value<std::string>* Section::string(std::string_view key) const {
    const toml::node* node = find(key);
    if (node == nullptr) return nullptr;
    if (const auto* s = node->as_string()) return s;
    error(key, *node, found_expected(*node, "a string (text in double quotes)"));
    return nullptr;
}

const toml::value<bool>* Section::boolean(std::string_view key) const {
    const toml::node* node = find(key);
    if (node == nullptr) return nullptr;
    if (const auto* b = node->as_boolean()) return b;
    std::string message = found_expected(*node, "true or false");
    if (const auto* s = node->as_string(); s && (s->get() == "true" || s->get() == "false")) {
        message += " (write it without quotes: " + s->get() + ")";
    }
    error(key, *node, std::move(message));
    return nullptr;
}

const toml::value<std::int64_t>* Section::integer_node(std::string_view key) const {
    const toml::node* node = find(key);
    if (node == nullptr) return nullptr;
    if (const auto* i = node->as_integer()) return i;
    error(key, *node, found_expected(*node, "an integer") + integer_type_hint(*node));
    return nullptr;
}

const toml::value<std::int64_t>* Section::required_integer(std::string_view key,
                                                           std::string_view what) const {
    if (find(key) == nullptr) {
        error_at_header(
            key, "missing required key '" + std::string(key) + "' (" + std::string(what) + ")");
        return nullptr;
    }
    return integer_node(key);
}

std::optional<std::int64_t> Section::integer_in(std::string_view key, IntRange range) const {
    const auto* value = integer_node(key);
    if (value == nullptr) return std::nullopt;
    const std::int64_t v = value->get();
    if (v < range.lo || v > range.hi) {
        std::string expected = std::to_string(range.lo) + ".." + std::to_string(range.hi);
        if (!range.unit.empty()) expected += " " + std::string(range.unit);
        error(key, *value, "found " + std::to_string(v) + ", expected " + expected);
        return std::nullopt;
    }
    return v;
}

void Section::integer(std::string_view key, int& out, IntRange range) const {
    if (auto v = integer_in(key, range)) out = static_cast<int>(*v);
}

std::optional<int> Section::integer_choice(std::string_view key,
                                           std::span<const int> allowed) const {
    const auto* value = integer_node(key);
    if (value == nullptr) return std::nullopt;
    const std::int64_t v = value->get();
    if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
        error(key, *value, "found " + std::to_string(v) + ", expected one of " + join(allowed));
        return std::nullopt;
    }
    return static_cast<int>(v);
}

void Section::integer_choice(std::string_view key, int& out, std::span<const int> allowed) const {
    if (auto v = integer_choice(key, allowed)) out = *v;
}

const toml::table* Section::table(std::string_view key, std::string_view what) const {
    const toml::node* node = find(key);
    if (node == nullptr) return nullptr;
    if (const auto* t = node->as_table()) return t;
    error(key, *node, found_expected(*node, what));
    return nullptr;
}

const Seen* find_seen(const std::vector<Seen>& seen, std::string_view value) {
    auto it =
        std::find_if(seen.begin(), seen.end(), [value](const Seen& s) { return s.value == value; });
    return it == seen.end() ? nullptr : &*it;
}

// ---------------------------------------------------------------------------
// Reading.

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
        if (text.size() > kMaxFileBytes) {
            return fail("cannot read: larger than 1 MiB, this is not a config file");
        }
        if (n < buffer.size()) break;
    }
    if (std::ferror(file.get()) != 0) {
        return fail("cannot read: " + std::generic_category().message(errno));
    }
    return text;
}

std::optional<Parity> parse_parity(std::string_view s) {
    if (s == "N" || equals_ignoring_case(s, "none")) return Parity::None;
    if (s == "E" || equals_ignoring_case(s, "even")) return Parity::Even;
    if (s == "O" || equals_ignoring_case(s, "odd")) return Parity::Odd;
    return std::nullopt;
}

std::optional<Parity> parity(const Section& s, std::string_view key) {
    const auto* value = s.string(key);
    if (value == nullptr) return std::nullopt;
    if (auto p = parse_parity(value->get())) return p;
    s.error(key, *value, "found " + in_quotes(value->get()) + ", " + std::string(kParityRule));
    return std::nullopt;
}

}  // namespace ecmgw::config::check
