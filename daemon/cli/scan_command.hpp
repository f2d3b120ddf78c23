// `ecmgw scan`: finds the meters on a bus and prints them as [[meter]] blocks
// ready to paste into the config. Modbus: a sweep of unit ids. DL/T 645 and
// CJ/T 188: the wildcard read-address, and for DL/T 645 the best-effort
// partial-wildcard address search (see dlt645_search.hpp).
#pragma once

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "cli/direct_link.hpp"
#include "cli/found_meter.hpp"
#include "cli/link_options.hpp"

namespace ecmgw::cli {

struct ScanOptions {
    LinkOptions link;
    int from = 1;  // modbus unit ids
    int to = 247;
    std::string bus = "CHANGE-ME";  // the [[bus]] name written into the blocks
    // DL/T 645: search by partial wildcards even when the full wildcard was
    // answered cleanly or not at all (it starts by itself when answers collide).
    bool search = false;
};

// Exit codes: 0 something found, 1 usage or port error, 2 nothing found.
int run_scan(const ScanOptions& options);

// Where a scan's remarks and progress go: the terminal for `ecmgw scan` on a
// port; for a scan the daemon runs on its bus, into the answer to the client.
struct ScanOutput {
    std::function<void(const std::string&)> say;  // one remark, a line
    std::FILE* progress = stderr;                 // nullptr: no progress bar
    std::function<bool()> stop;                   // true: end early (Ctrl-C)
};

// The setup of a scan from its flags (plan_meter with the scan's own timeouts).
Expected<MeterSetup, CommandError> plan_scan(const ScanOptions& options);
// The scan itself on an open link: a Modbus sweep, or the wildcard read-address
// (and the DL/T 645 partial-wildcard search).
Expected<std::vector<FoundMeter>, CommandError> scan_link(DirectLink& link,
                                                          const ScanOptions& options,
                                                          const ScanOutput& out);

}  // namespace ecmgw::cli
