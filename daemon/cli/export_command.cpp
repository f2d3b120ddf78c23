#include "cli/export_command.hpp"

#include <fmt/core.h>

#include "cli/daemon_link.hpp"
#include "cli/output.hpp"
#include "control/protocol.hpp"
#include "core/outbox_format.hpp"

namespace ecmgw::cli {

namespace {

constexpr std::string_view kCommand = "ecmgw export readings";

enum class Format { Table, Csv, Json };

struct Row {
    std::string meter, time, ts_ms, quantity, value;
};

Row row_of(const nlohmann::json& r) {
    const auto ts = r.value("ts_ms", std::int64_t{0});
    return {r.value("meter", ""), core::rfc3339_utc(ts), std::to_string(ts),
            r.value("quantity", ""), r.value("value", "")};
}

void print_row(const Row& r, Format f, bool first) {
    switch (f) {
        case Format::Csv:
            fmt::print("{},{},{},{},{}\n", csv_field(r.meter), r.time, r.ts_ms,
                       csv_field(r.quantity), r.value);
            break;
        case Format::Json:
            // The value keeps the meter's digits: its text is a JSON number already.
            fmt::print("{}{}\n", first ? "" : ",",
                       json_object({{"meter", json_string(r.meter)},
                                    {"time", json_string(r.time)},
                                    {"ts_ms", r.ts_ms},
                                    {"quantity", json_string(r.quantity)},
                                    {"value", r.value}}));
            break;
        case Format::Table:
            fmt::print("{:<12} {}  {:<24} {}\n", r.meter, r.time, r.quantity, r.value);
            break;
    }
}

}  // namespace

std::string csv_field(const std::string& text) {
    if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
    std::string out = "\"";
    for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

int run_export(const ExportOptions& o) {
    if (o.csv && o.json)
        return report({kExitUsage, fmt::format("{}: --csv or --json, not both", kCommand)});
    auto from = control::parse_time_ms(o.from);
    if (!from)
        return report({kExitUsage, fmt::format("{}: --from {}", kCommand, from.error().message)});
    auto to = control::parse_time_ms(o.to);
    if (!to) return report({kExitUsage, fmt::format("{}: --to {}", kCommand, to.error().message)});
    if (*from >= *to)
        return report({kExitUsage, fmt::format("{}: --from must be before --to", kCommand)});
    const Format format = o.csv ? Format::Csv : o.json ? Format::Json : Format::Table;
    // The header waits for the daemon's first answer: an unreachable daemon leaves
    // stdout empty rather than a file that looks like an empty export.
    bool started = false;
    auto start = [&] {
        if (started) return;
        started = true;
        if (format == Format::Csv) fmt::print("meter,time,ts_ms,quantity,value\n");
        if (format == Format::Json) fmt::print("[\n");
        if (format == Format::Table)
            fmt::print("{:<12} {:<24}  {:<24} {}\n", "METER", "TIME", "QUANTITY", "VALUE");
    };
    bool first = true;
    auto done =
        ask_daemon(std::string(kCommand), o.socket, control::ExportRequest{*from, *to, o.meter},
                   [&](const nlohmann::json& r) {
                       start();
                       print_row(row_of(r), format, first);
                       first = false;
                       return true;
                   });
    // A failure half-way leaves a truncated output: it is reported, with a non-zero exit.
    if (!done) return report(done.error());
    start();
    if (format == Format::Json) fmt::print("]\n");
    return kExitOk;
}

}  // namespace ecmgw::cli
