// `ecmgw scan`: finds the meters on a bus and prints them as [[meter]] blocks
// ready to paste into the config. Modbus: a sweep of unit ids. DL/T 645 and
// CJ/T 188: the wildcard read-address, and for DL/T 645 the best-effort
// partial-wildcard address search (see dlt645_search.hpp).
#pragma once

#include <string>

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

}  // namespace ecmgw::cli
