// Private to the config module: the pieces every TOML file it checks (the gateway's
// config, the meter profiles) share. Each mistake becomes one ConfigError with
// file:line:column, the key's path and what was found versus expected.
#pragma once

#include <toml++/toml.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "ecmgw/common/expected.hpp"
#include "ecmgw/config/config.hpp"

namespace ecmgw::config::check {

using Keys = std::span<const std::string_view>;

// A config or profile file is a few kilobytes; the cap stops a wrong path such as
// /dev/zero from eating the box's memory.
inline constexpr std::size_t kMaxFileBytes = 1024 * 1024;
inline constexpr std::size_t kMaxIdLength = 64;
inline constexpr std::string_view kIdentifierRule =
    "1 to 64 characters, each a letter A-Z/a-z, a digit, '-' or '_'";

// --- text for messages ---------------------------------------------------------------

std::string lowercase(std::string_view s);
bool equals_ignoring_case(std::string_view a, std::string_view b);
// A value as written, in double quotes, escaped and shortened so that a stray binary
// blob cannot flood the terminal.
std::string in_quotes(std::string_view s);
std::string quoted_list(Keys items);

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

// The word the technician probably meant, if one is close enough.
std::optional<std::string_view> suggest(std::string_view word, Keys candidates);
// " (did you mean 'x'?)" or "".
std::string did_you_mean(std::string_view word, Keys candidates);
// What a TOML value is, for "found …": `string "2400"`, `integer 7`.
std::string describe(const toml::node& node);
std::string found_expected(const toml::node& node, std::string_view expected);
// " (write it without quotes: 2400)" for an integer written as text or as 2400.0.
std::string integer_type_hint(const toml::node& node);

bool is_identifier(std::string_view s);
bool is_digits(std::string_view s);
int line_of(const toml::node& node);
std::string indexed(std::string_view table, std::size_t index);  // "bus[2]" (1-based)

// --- collecting errors -----------------------------------------------------------------

class Errors {
  public:
    explicit Errors(std::string file) : file_(std::move(file)) {}

    void add(const toml::source_region& where, std::string key, std::string message);
    // For mistakes that have no place in the file, such as a missing [gateway].
    void add_unplaced(std::string key, std::string message);
    // Errors of other files (the profiles a config uses): reported after this file's.
    void append_foreign(ConfigErrors more);
    bool empty() const { return errors_.empty() && foreign_.empty(); }
    // How many have been reported so far: a reader compares counts to tell whether
    // one table was clean.
    std::size_t count() const { return errors_.size() + foreign_.size(); }
    const std::string& file() const { return file_; }

    // In file order, so a technician can fix them top to bottom; the checks themselves
    // run table by table (toml++ keeps keys sorted by name).
    ConfigErrors take();

  private:
    std::string file_;
    ConfigErrors errors_;
    ConfigErrors foreign_;
};

struct IntRange {
    std::int64_t lo;
    std::int64_t hi;
    std::string_view unit;  // "ms", "s", or empty
};

// One table of a schema ([gateway], one [[bus]], one [[point]], …): reads its keys by
// name and reports every mistake under the table's key path.
class Section {
  public:
    Section(Errors& errors, const toml::table& table, std::string path, Keys keys)
        : errors_(errors), table_(table), path_(std::move(path)), keys_(keys) {}

    const std::string& path() const { return path_; }
    // For a sub-table's own Section (an inline table inside this one).
    Errors& errors() const { return errors_; }
    std::string path_of(std::string_view key) const;
    const toml::table& table() const { return table_; }
    const toml::node* find(std::string_view key) const { return table_.get(key); }
    bool has(std::string_view key) const { return find(key) != nullptr; }

    void error(std::string_view key, const toml::node& at, std::string message) const;
    // At the table's header line: for keys that must be added there.
    void error_at_header(std::string_view key, std::string message) const;

    void check_unknown_keys() const;

    // A missing required key is reported at the table's header line: that is where the
    // technician has to add it.
    const toml::value<std::string>* required_string(std::string_view key,
                                                    std::string_view what) const;
    const toml::value<std::string>* string(std::string_view key) const;
    const toml::value<bool>* boolean(std::string_view key) const;
    const toml::value<std::int64_t>* integer_node(std::string_view key) const;
    const toml::value<std::int64_t>* required_integer(std::string_view key,
                                                      std::string_view what) const;
    // The value when it is an integer within the range; reports it otherwise.
    std::optional<std::int64_t> integer_in(std::string_view key, IntRange range) const;
    void integer(std::string_view key, int& out, IntRange range) const;
    void integer_choice(std::string_view key, int& out, std::span<const int> allowed) const;
    std::optional<int> integer_choice(std::string_view key, std::span<const int> allowed) const;
    // A sub-table ([relay.state], or an inline table); reports any other type.
    const toml::table* table(std::string_view key, std::string_view what) const;

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

const Seen* find_seen(const std::vector<Seen>& seen, std::string_view value);

// --- reading -------------------------------------------------------------------------------

// toml++ stops at the first syntax error; it is reported with its place.
std::optional<toml::table> parse_toml(std::string_view text, std::string_view file_name,
                                      Errors& errors);
// The whole file, at most kMaxFileBytes; the system's reason when it cannot be read.
Expected<std::string> read_file(const std::filesystem::path& path);

// Serial settings shared by [[bus]], [[meter]] overrides and profiles.
inline constexpr std::array<int, 10> kStandardBauds{300,  600,   1200,  2400,  4800,
                                                    9600, 19200, 38400, 57600, 115200};
std::optional<Parity> parse_parity(std::string_view s);
inline constexpr std::string_view kParityRule =
    "expected \"N\", \"E\" or \"O\" (or \"none\", \"even\", \"odd\")";
// Reads `key` as a parity; reports a bad one.
std::optional<Parity> parity(const Section& s, std::string_view key);

}  // namespace ecmgw::config::check
