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

// Where a direct command's text goes: stdout and stderr, or, while a capture is
// in force on this thread, two strings. The daemon runs a direct command for a
// client on the bus it owns (control/direct_handler.cpp) and sends both back, so
// the technician sees what the command prints without a daemon.
void print_out(std::string_view text);
void print_err(std::string_view text);

struct CapturedText {
    std::string out;
    std::string err;
};
class CaptureOutput {
  public:
    explicit CaptureOutput(CapturedText& into);
    ~CaptureOutput();
    CaptureOutput(const CaptureOutput&) = delete;
    CaptureOutput& operator=(const CaptureOutput&) = delete;

  private:
    CapturedText* previous_;
};

}  // namespace ecmgw::cli
