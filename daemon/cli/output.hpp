// Small pieces of output the direct commands share: JSON whose numbers keep
// every digit the meter sent (nlohmann would pass them through a double), and
// the error report on stderr.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cli/direct_link.hpp"
#include "ecmgw/common/decimal.hpp"

namespace ecmgw::cli {

// A JSON object from members whose values are already JSON text.
using JsonMembers = std::vector<std::pair<std::string, std::string>>;
std::string json_object(const JsonMembers& members);
std::string json_array(const std::vector<std::string>& elements);
std::string json_string(std::string_view text);
// The exact digits as a JSON number: 230.50 stays 230.50.
std::string json_number(const Decimal& value);

// Prints the error's message on stderr and returns its exit code.
int report(const CommandError& error);

}  // namespace ecmgw::cli
