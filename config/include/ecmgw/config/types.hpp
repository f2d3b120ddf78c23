// Types shared by the gateway's config and the meter profiles: serial parity and the
// errors a file check reports (file:line:column, key, what was found and expected).
#pragma once

#include <string>
#include <vector>

namespace ecmgw::config {

enum class Parity { None, Even, Odd };

char to_char(Parity p);  // 'N', 'E', 'O'

// One mistake in a config or profile file.
struct ConfigError {
    std::string file;
    int line = 0;         // 1-based; 0 when the mistake has no place (e.g. file missing)
    int column = 0;       // 1-based
    std::string key;      // dotted path: "bus[1].baud", "meter[3].address", "point[2].type"
    std::string message;  // what was found and what was expected

    // "ecmgw.toml:12:8: bus[1].baud: found 2401, expected one of 300, 600, …"
    std::string to_string() const;
};

using ConfigErrors = std::vector<ConfigError>;

}  // namespace ecmgw::config
