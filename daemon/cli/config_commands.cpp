#include "cli/config_commands.hpp"

#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "cli/direct_link.hpp"
#include "ecmgw/config/config.hpp"
#include "ecmgw/config/config_warnings.hpp"

namespace ecmgw::cli {

namespace {

void print_errors(const config::ConfigErrors& errors) {
    for (const auto& e : errors) fmt::print(stderr, "{}\n", e.to_string());
}

}  // namespace

int run_check_config(const std::string& path, bool strict) {
    auto checked = config::check_config_file(path);
    if (!checked) {
        print_errors(checked.error());
        fmt::print(stderr, "{}: {} error(s)\n", path, checked.error().size());
        return 1;
    }
    for (const auto& w : checked->warnings)
        fmt::print(stderr, "{}\n", config::warning_to_string(w));
    const auto& cfg = checked->config;
    std::string summary =
        fmt::format("{}: ok ({} bus(es), {} meter(s))", path, cfg.buses.size(), cfg.meters.size());
    if (!checked->warnings.empty()) {
        summary += fmt::format(", {} warning(s)", checked->warnings.size());
    }
    if (strict && !checked->warnings.empty()) {
        fmt::print(stderr, "{}; --strict: warnings count as errors\n", summary);
        return 1;
    }
    fmt::print("{}\n", summary);
    return 0;
}

// ---------------------------------------------------------------------------
// import-meters

namespace {

using Row = std::vector<std::string>;

// Spreadsheets write ',' (or ';' where ',' is the decimal mark, or tabs); the header
// line says which.
char separator_of(std::string_view header) {
    const auto count = [&](char c) { return std::count(header.begin(), header.end(), c); };
    if (count('\t') > count(',') && count('\t') > count(';')) return '\t';
    return count(';') > count(',') ? ';' : ',';
}

struct CsvLine {
    int line = 0;  // 1-based, where the record starts
    Row cells;
};

// RFC 4180 records: quoted cells may hold separators, "" and line breaks.
std::vector<CsvLine> parse_csv(std::string_view text, std::string& problem, int& problem_line) {
    if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
    const char sep = separator_of(text.substr(0, text.find('\n')));
    std::vector<CsvLine> records;
    CsvLine current{1, {}};
    std::string cell;
    bool quoted = false;
    bool in_record = false;
    int line = 1;
    auto end_cell = [&] {
        current.cells.push_back(std::move(cell));
        cell.clear();
    };
    auto end_record = [&] {
        end_cell();
        records.push_back(std::move(current));
        current = CsvLine{line + 1, {}};
        in_record = false;
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (quoted) {
            if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
                cell += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                if (c == '\n') ++line;
                cell += c;
            }
            continue;
        }
        if (c == '"' && cell.empty()) {
            quoted = true;
            in_record = true;
        } else if (c == sep) {
            end_cell();
            in_record = true;
        } else if (c == '\r') {
            continue;
        } else if (c == '\n') {
            end_record();
            ++line;
        } else {
            cell += c;
            in_record = true;
        }
    }
    if (quoted) {
        problem = "a quoted cell is never closed (a missing '\"')";
        problem_line = current.line;
        return {};
    }
    if (in_record || !cell.empty()) end_record();
    return records;
}

std::string trim(std::string_view s) {
    const auto first = s.find_first_not_of(" \t");
    if (first == std::string_view::npos) return {};
    const auto last = s.find_last_not_of(" \t");
    return std::string(s.substr(first, last - first + 1));
}

// "Meter Type" and "meter-type" are the column meter_type.
std::string column_key(std::string_view header) {
    std::string key;
    for (char c : trim(header)) {
        if (c == ' ' || c == '-') c = '_';
        key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return key;
}

std::string toml_string(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20 || u == 0x7F) {
            out += fmt::format("\\u{:04X}", u);
        } else {
            out += c;
        }
    }
    return out + "\"";
}

bool is_digits(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_integer(std::string_view s) {
    if (s.starts_with('-') || s.starts_with('+')) s.remove_prefix(1);
    return is_digits(s) && s.size() <= 9;
}

std::optional<bool> parse_bool(std::string_view s) {
    std::string v;
    for (char c : s) v += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (v == "true" || v == "yes" || v == "y" || v == "1" || v == "x" || v == "是") return true;
    if (v == "false" || v == "no" || v == "n" || v == "0" || v == "否") return false;
    return std::nullopt;
}

// Cells that become TOML integers, booleans and arrays; the rest are strings.
enum class CellType { String, Integer, Boolean, List, Comment };

CellType type_of(std::string_view column) {
    if (column == "unit" || column == "interval_s" || column == "baud" || column == "timeout_ms") {
        return CellType::Integer;
    }
    if (column == "relay") return CellType::Boolean;
    if (column == "quantities") return CellType::List;
    if (column == "note") return CellType::Comment;
    return CellType::String;
}

std::size_t address_digits(std::string_view protocol) {
    if (protocol == "cjt188") return 14;
    if (protocol == "dlt645-2007" || protocol == "dlt645-1997") return 12;
    return 0;
}

}  // namespace

ImportedMeters meters_from_csv(std::string_view csv, std::string_view csv_name) {
    ImportedMeters out;
    const std::string name(csv_name);
    auto problem = [&](int line, std::string_view column, const std::string& message) {
        out.problems.push_back(column.empty()
                                   ? fmt::format("{}:{}: {}", name, line, message)
                                   : fmt::format("{}:{}: {}: {}", name, line, column, message));
    };
    std::string parse_problem;
    int parse_problem_line = 0;
    std::vector<CsvLine> records = parse_csv(csv, parse_problem, parse_problem_line);
    if (!parse_problem.empty()) {
        problem(parse_problem_line, "", parse_problem);
        return out;
    }
    // Blank rows and rows starting with '#' are for people.
    std::erase_if(records, [](const CsvLine& r) {
        const bool blank = std::all_of(r.cells.begin(), r.cells.end(),
                                       [](const std::string& c) { return trim(c).empty(); });
        return blank || (!r.cells.empty() && trim(r.cells.front()).starts_with('#'));
    });
    if (records.empty()) {
        problem(1, "",
                "no header row; expected a first row naming the columns, e.g. " +
                    std::string("id,bus,protocol,address"));
        return out;
    }
    const CsvLine& header = records.front();
    std::vector<std::string> columns;
    const auto known = std::begin(kImportColumns);
    const auto known_end = std::end(kImportColumns);
    for (const std::string& cell : header.cells) {
        std::string key = column_key(cell);
        if (std::find(known, known_end, key) == known_end) {
            std::vector<std::string> names(known, known_end);
            problem(header.line, cell,
                    "unknown column" + std::string(key.empty() ? " (an empty header cell)" : "") +
                        "; expected columns among: " + fmt::format("{}", fmt::join(names, ", ")));
        } else if (std::find(columns.begin(), columns.end(), key) != columns.end()) {
            problem(header.line, cell, "the column appears twice");
        }
        columns.push_back(std::move(key));
    }
    for (std::string_view required : {"id", "bus", "protocol"}) {
        if (std::find(columns.begin(), columns.end(), required) == columns.end()) {
            problem(header.line, "",
                    "no '" + std::string(required) + "' column; every meter needs one");
        }
    }
    if (!out.problems.empty()) return out;

    std::vector<std::string> lines;  // of the TOML, to map back to CSV lines
    auto emit = [&](std::string text, int csv_line) {
        lines.push_back(std::move(text));
        out.csv_line_of.push_back(csv_line);
    };
    for (std::size_t r = 1; r < records.size(); ++r) {
        const CsvLine& row = records[r];
        if (row.cells.size() > columns.size()) {
            problem(row.line, "",
                    fmt::format("{} cells, but the header names {} columns (a separator inside "
                                "a value needs the value in double quotes)",
                                row.cells.size(), columns.size()));
            continue;
        }
        auto cell = [&](std::string_view column) -> std::string {
            auto it = std::find(columns.begin(), columns.end(), column);
            if (it == columns.end()) return {};
            const auto i = static_cast<std::size_t>(it - columns.begin());
            return i < row.cells.size() ? trim(row.cells[i]) : std::string{};
        };
        const std::size_t problems_before = out.problems.size();
        const std::string protocol = cell("protocol");
        std::vector<std::string> entry;
        std::string comment;
        for (std::size_t c = 0; c < columns.size(); ++c) {
            const std::string& column = columns[c];
            std::string value = cell(column);
            if (value.empty()) {
                if (column == "id" || column == "bus" || column == "protocol") {
                    problem(row.line, column, "empty; every meter needs its " + column);
                }
                continue;
            }
            switch (type_of(column)) {
                case CellType::Comment:
                    comment = value;
                    break;
                case CellType::Integer:
                    if (!is_integer(value)) {
                        problem(row.line, column,
                                "found \"" + value + "\", expected a whole number");
                        break;
                    }
                    entry.push_back(column + " = " + std::to_string(std::stol(value)));
                    break;
                case CellType::Boolean: {
                    const auto b = parse_bool(value);
                    if (!b) {
                        problem(row.line, column,
                                "found \"" + value + "\", expected yes or no (true/false, 1/0)");
                        break;
                    }
                    entry.push_back(column + " = " + (*b ? "true" : "false"));
                    break;
                }
                case CellType::List: {
                    std::vector<std::string> items;
                    std::string item;
                    for (char ch : value + ";") {
                        if (ch == ';' || ch == ',' || ch == ' ' || ch == '|') {
                            if (!item.empty()) items.push_back(toml_string(item));
                            item.clear();
                        } else {
                            item += ch;
                        }
                    }
                    entry.push_back(column + " = [" + fmt::format("{}", fmt::join(items, ", ")) +
                                    "]");
                    break;
                }
                case CellType::String:
                    if (column == "address") {
                        const std::size_t digits = address_digits(protocol);
                        if (value.find_first_of("eE") != std::string::npos &&
                            value.find('+') != std::string::npos) {
                            problem(row.line, column,
                                    "found \"" + value +
                                        "\": the spreadsheet wrote the address as a number in "
                                        "scientific notation and lost its digits; format the "
                                        "column as text and export again");
                            break;
                        }
                        if (digits != 0 && is_digits(value) && value.size() < digits) {
                            out.notes.push_back(fmt::format(
                                "{}:{}: address {} padded to {} digits (the spreadsheet dropped "
                                "its leading zeros)",
                                name, row.line, value, digits));
                            value = std::string(digits - value.size(), '0') + value;
                        }
                    }
                    entry.push_back(column + " = " + toml_string(value));
                    break;
            }
        }
        if (out.problems.size() != problems_before) continue;
        const std::string bus = cell("bus");
        if (std::find(out.bus_names.begin(), out.bus_names.end(), bus) == out.bus_names.end()) {
            out.bus_names.push_back(bus);
        }
        emit("", row.line);
        emit("[[meter]]  # " + name + " line " + std::to_string(row.line) +
                 (comment.empty() ? "" : ": " + comment),
             row.line);
        for (auto& line : entry) emit(std::move(line), row.line);
        ++out.meters;
    }
    if (!out.problems.empty()) return out;
    if (out.meters == 0) problem(header.line, "", "no meters below the header row");
    for (const auto& line : lines) out.toml += line + "\n";
    return out;
}

namespace {

struct Combined {
    std::string text;
    int first_entry_line = 0;  // 1-based line of the entries' first line in `text`
};

std::string text_of_bus_list(const ImportedMeters& imported) {
    std::string text;
    int n = 0;
    for (const auto& bus : imported.bus_names) {
        text += fmt::format("[[bus]]\nname = {}\ndevice = \"/dev/import-check-{}\"\n\n",
                            toml_string(bus), ++n);
    }
    return text;
}

// The entries without account and tariff: without a config there are none to name.
std::string without_prepaid(const std::string& toml) {
    std::istringstream in(toml);
    std::string out;
    for (std::string line; std::getline(in, line);) {
        // The line stays (blank), so line numbers keep pointing at the same CSV rows.
        if (line.starts_with("account = ") || line.starts_with("tariff = ")) line.clear();
        out += line + "\n";
    }
    return out;
}

int count_lines(std::string_view text) {
    return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

// The CSV line of a line of the combined text; 0 for the config's own lines.
int csv_line(int line, const Combined& combined, const ImportedMeters& imported) {
    const int index = line - combined.first_entry_line;
    if (line == 0 || index < 0 || index >= static_cast<int>(imported.csv_line_of.size())) return 0;
    return imported.csv_line_of[static_cast<std::size_t>(index)];
}

// The validator points back at earlier entries as "(line 40)": a line of the combined
// text, which exists nowhere on disk. Say which file it is in.
std::string name_lines(const std::string& message, const Combined& combined,
                       const ImportedMeters& imported, const std::string& csv_name,
                       const std::string& config_name) {
    static constexpr std::string_view kMark = "(line ";
    std::string out;
    std::size_t from = 0;
    for (std::size_t at; (at = message.find(kMark, from)) != std::string::npos;) {
        std::size_t end = at + kMark.size();
        while (end < message.size() && std::isdigit(static_cast<unsigned char>(message[end]))) {
            ++end;
        }
        out += message.substr(from, at - from);
        if (end == at + kMark.size() || end >= message.size() || message[end] != ')') {
            out += kMark;
            from = at + kMark.size();
            continue;
        }
        const int line = std::stoi(message.substr(at + kMark.size(), end - at - kMark.size()));
        const int row = csv_line(line, combined, imported);
        out += row != 0 ? fmt::format("({} line {})", csv_name, row)
                        : fmt::format("({} line {})", config_name, line);
        from = end + 1;
    }
    return out + message.substr(from);
}

// A finding of the validator, told in the CSV's terms when it is about an entry.
std::string in_csv_terms(config::ConfigError e, const Combined& combined,
                         const ImportedMeters& imported, const std::string& csv_name,
                         const std::string& config_name, bool warning) {
    e.message = name_lines(e.message, combined, imported, csv_name, config_name);
    const int row = csv_line(e.line, combined, imported);
    if (row == 0) return warning ? config::warning_to_string(e) : e.to_string();
    std::string column = e.key;
    if (auto dot = column.find('.'); dot != std::string::npos) column = column.substr(dot + 1);
    if (auto bracket = column.find('['); bracket != std::string::npos) {
        column = column.substr(0, bracket);
    }
    return fmt::format("{}:{}: {}{}: {}", csv_name, row, warning ? "warning: " : "", column,
                       e.message);
}

}  // namespace

int run_import_meters(const ImportOptions& options) {
    std::ifstream in(options.csv_path, std::ios::binary);
    if (!in) {
        fmt::print(stderr, "{}: cannot open: {}\n", options.csv_path,
                   std::generic_category().message(errno));
        return 2;
    }
    std::stringstream buffer;
    buffer << in.rdbuf();
    const std::string csv_name = std::filesystem::path(options.csv_path).filename().string();
    ImportedMeters imported = meters_from_csv(buffer.str(), csv_name);
    for (const auto& note : imported.notes) fmt::print(stderr, "{}\n", note);
    if (!imported.problems.empty()) {
        for (const auto& p : imported.problems) fmt::print(stderr, "{}\n", p);
        fmt::print(stderr, "{}: {} problem(s); nothing written\n", options.csv_path,
                   imported.problems.size());
        return 1;
    }

    // The entries are checked by the daemon's own validator, inside the real config
    // (ids, buses, accounts, tariffs and addresses against what is there) or, without
    // one, inside a stand-in that declares the buses they name.
    Combined combined;
    std::string file_name;
    if (!options.config_path.empty()) {
        std::ifstream config_in(options.config_path, std::ios::binary);
        if (!config_in) {
            fmt::print(stderr, "{}: cannot open: {}\n", options.config_path,
                       std::generic_category().message(errno));
            return 2;
        }
        std::stringstream config_text;
        config_text << config_in.rdbuf();
        combined.text = config_text.str();
        if (!combined.text.empty() && combined.text.back() != '\n') combined.text += '\n';
        file_name = options.config_path;
        combined.first_entry_line = count_lines(combined.text) + 1;
        combined.text += imported.toml;
    } else {
        const auto profiles =
            options.profiles_dir.empty() ? default_profiles_dir().string() : options.profiles_dir;
        combined.text = fmt::format("[gateway]\nid = \"import-check\"\nprofiles_dir = {}\n\n",
                                    toml_string(profiles)) +
                        text_of_bus_list(imported);
        file_name = "(import check)";
        combined.first_entry_line = count_lines(combined.text) + 1;
        combined.text += without_prepaid(imported.toml);
    }
    auto checked = config::check_config_text(combined.text, file_name);
    if (!checked) {
        for (const auto& e : checked.error()) {
            fmt::print(stderr, "{}\n",
                       in_csv_terms(e, combined, imported, csv_name, file_name, false));
        }
        fmt::print(stderr, "{}: {} error(s); nothing written\n", options.csv_path,
                   checked.error().size());
        return 1;
    }
    // Warnings about the config's own lines are check-config's business.
    for (const auto& w : checked->warnings) {
        if (w.line >= combined.first_entry_line) {
            fmt::print(stderr, "{}\n",
                       in_csv_terms(w, combined, imported, csv_name, file_name, true));
        }
    }

    std::string text = fmt::format(
        "# {} meter(s) from {} (ecmgw import-meters){}.\n# Append to the gateway's config, "
        "then check it: ecmgw check-config /etc/ecmgw/ecmgw.toml\n",
        imported.meters, csv_name,
        options.config_path.empty() ? ", not checked against a config: bus, account and "
                                      "tariff names are the config's to confirm"
                                    : ", checked against " + options.config_path);
    text += imported.toml;
    if (options.output_path.empty()) {
        fmt::print("{}", text);
        return 0;
    }
    std::ofstream out(options.output_path, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
        fmt::print(stderr, "{}: cannot write: {}\n", options.output_path,
                   std::generic_category().message(errno));
        return 2;
    }
    fmt::print(stderr, "{}: {} meter(s) written\n", options.output_path, imported.meters);
    return 0;
}

}  // namespace ecmgw::cli
