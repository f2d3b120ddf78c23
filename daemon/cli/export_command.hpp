// `ecmgw export readings --from … --to … [--meter …] [--csv|--json]`: the
// readings the daemon stored in a time range, oldest first: CSV with a header
// (time as RFC 3339 UTC with milliseconds, and as Unix ms), one JSON array, or
// a table.
#pragma once

#include <string>

namespace ecmgw::cli {

struct ExportOptions {
    std::string socket;
    std::string from;  // RFC 3339 or a date
    std::string to;
    std::string meter;
    bool csv = false;
    bool json = false;
};

int run_export(const ExportOptions& options);

// One CSV field: quoted when it holds a comma, a quote or a line break (RFC 4180).
std::string csv_field(const std::string& text);

}  // namespace ecmgw::cli
