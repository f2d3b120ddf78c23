// What a simulated meter reported in an answer, for the answer log: the quantity under
// the name the gateway stores it by, and its value as the gateway will decode it.
#pragma once

#include <string>

namespace ecmgw::sim {

struct AnsweredValue {
    std::string quantity;  // "energy_kwh", "volume_m3", ...
    std::string value;     // exact decimal text ("123.45"), or a date, time or address
    friend bool operator==(const AnsweredValue&, const AnsweredValue&) = default;
};

}  // namespace ecmgw::sim
