// `ecmgw read`: a technician reads one meter once, without a config file and
// without the daemon, through the same drivers the daemon polls with.
#pragma once

#include "cli/link_options.hpp"

namespace ecmgw::cli {

// Prints a table, or one JSON object with --json. Exit codes: 0 read (some items
// may have failed: they are listed), 1 usage or port error, 2 the meter did not answer.
int run_read(const LinkOptions& options);

}  // namespace ecmgw::cli
