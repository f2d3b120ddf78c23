// The commands that work on configuration files, not on meters: `check-config` (every
// error and warning with file:line:column) and `import-meters` (a spreadsheet of meters
// turned into [[meter]] entries, checked by the same validator as the daemon's).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace CLI {
class App;
}

namespace ecmgw::cli {

// Exit codes: 0 valid (warnings are printed, not fatal), 1 errors, or warnings with
// `strict`.
int run_check_config(const std::string& path, bool strict);

// --- import-meters -----------------------------------------------------------------

// The CSV columns, in the order docs/commissioning.md lists them. Each becomes the
// [[meter]] key of the same name (docs/config.md); `note` becomes a comment.
inline constexpr std::string_view kImportColumns[] = {"id",
                                                      "bus",
                                                      "protocol",
                                                      "address",
                                                      "unit",
                                                      "profile",
                                                      "kind",
                                                      "meter_type",
                                                      "interval_s",
                                                      "account",
                                                      "tariff",
                                                      "relay",
                                                      "quantities",
                                                      "baud",
                                                      "parity",
                                                      "timeout_ms",
                                                      "password",
                                                      "operator",
                                                      "max_rate_per_hour",
                                                      "note"};

struct ImportedMeters {
    std::string toml;                   // the [[meter]] entries
    std::vector<std::string> problems;  // "meters.csv:4: address: …"; nothing usable when any
    std::vector<std::string> notes;     // what was changed on the way (leading zeros restored)
    std::size_t meters = 0;
    // For each line of `toml` (0-based) that starts or belongs to an entry: its CSV line.
    std::vector<int> csv_line_of;
    std::vector<std::string> bus_names;  // as written, first seen first
};

// Reads a spreadsheet export: a header row naming the columns (any order, case and
// spaces ignored), then one meter a row. Separators ',' ';' or tab (from the header),
// quoted cells, a UTF-8 byte order mark and CRLF line ends are what spreadsheets write.
ImportedMeters meters_from_csv(std::string_view csv, std::string_view csv_name);

struct ImportOptions {
    std::string csv_path;
    std::string config_path;   // optional: check ids, buses, accounts and tariffs against it
    std::string output_path;   // optional: write there instead of stdout
    std::string profiles_dir;  // without a config: where modbus profiles are
};

// Exit codes: 0 written, 1 bad rows or the entries do not fit the config (nothing
// written), 2 a file could not be read or written.
int run_import_meters(const ImportOptions& options);

class ConfigCommands {
  public:
    // Adds import-meters to `app`; check-config stays main's (it shares --config's path).
    explicit ConfigCommands(CLI::App& app);
    ConfigCommands(const ConfigCommands&) = delete;
    ConfigCommands& operator=(const ConfigCommands&) = delete;
    // The exit code of import-meters when it was given; nullopt when not.
    std::optional<int> run() const;

  private:
    ImportOptions import_;
    CLI::App* import_command_ = nullptr;
};

}  // namespace ecmgw::cli
