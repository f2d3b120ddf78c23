#include "cli/table.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cstdlib>

namespace ecmgw::cli {

namespace {

// UTF-8 continuation bytes take no column (m³, ¥).
std::size_t width(const std::string& s) {
    return static_cast<std::size_t>(
        std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

}  // namespace

std::string Table::render() const {
    std::vector<std::size_t> widths;
    for (const auto& row : rows_) {
        if (widths.size() < row.size()) widths.resize(row.size(), 0);
        for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], width(row[i]));
    }
    std::string out;
    for (const auto& row : rows_) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) line += std::string(widths[i] - width(row[i]) + 2, ' ');
        }
        out += line + "\n";
    }
    return out;
}

std::string age_text(long long seconds) {
    if (seconds < 0) seconds = 0;
    if (seconds < 120) return fmt::format("{} s", seconds);
    if (seconds < 120 * 60) return fmt::format("{} min", seconds / 60);
    if (seconds < 48 * 3600) return fmt::format("{} h", seconds / 3600);
    return fmt::format("{} d", seconds / 86400);
}

std::string yuan(long long fen) {
    return fmt::format("{}{}.{:02d}", fen < 0 ? "-" : "", std::llabs(fen) / 100,
                       std::llabs(fen) % 100);
}

}  // namespace ecmgw::cli
