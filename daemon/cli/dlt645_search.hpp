// Finding DL/T 645 and CJ/T 188 meters by address.
//
// With one meter on the bus, the wildcard read-address names it. With several,
// their answers collide. DL/T 645 then allows, on meters that support it, a
// search with partial wildcards: AA in an address byte matches any value. The
// search asks XX AA AA AA AA AA for XX = 00..99 (A0, the lowest two digits,
// first); a clean answer is one meter, several meters answering at once (a
// garbled answer, or more bytes after a clean one) fix that byte and descend to
// the next. This is best-effort: many meters accept only the full wildcard and
// stay silent, so a silent search proves nothing.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cli/direct_link.hpp"
#include "cli/found_meter.hpp"
#include "cli/progress.hpp"
#include "ecmgw/protocols/dlt645.hpp"

namespace ecmgw::cli {

// What one request to a wildcard (full or partial) heard.
enum class Heard { Nobody, One, Several };
struct Hearing {
    Heard heard = Heard::Nobody;
    std::string address;  // the meter whose answer came through cleanly, if any
    std::string problem;  // a clean frame that is no answer to the request: why
};

// The wildcard read-address of the setup's protocol, telling one meter from several.
Expected<Hearing, CommandError> ask_wildcard(DirectLink& link);

// An address with `fixed` bytes from A0 up, AA in the rest.
dlt645::Address partial_wildcard(const std::vector<std::uint8_t>& fixed);
bool matches(const dlt645::Address& pattern, const dlt645::Address& meter);

// The partial-wildcard search (DL/T 645-2007 and 1997). Calls `found` for each
// meter as it answers; stops early when `stop` says so.
Expected<void, CommandError> search_addresses(DirectLink& link, Progress& progress,
                                              const std::function<void(FoundMeter)>& found,
                                              const std::function<bool()>& stop);

// The number of requests the search starts with (one address byte).
inline constexpr std::size_t kSearchFanOut = 100;

}  // namespace ecmgw::cli
