// The answer log (--answer-log): one JSON line per value answered, so tests can check
// that every reading the gateway stored was really sent:
//   {"protocol":"dlt645-2007","meter":"E-0001","address":"000000000001",
//    "quantity":"energy_kwh","value":"123.45"}
// Modbus meters carry "unit" (a number) instead of "address".
#pragma once

#include <fstream>
#include <string>
#include <vector>

#include "sim/answered_value.hpp"
#include "sim/sim_meter.hpp"

namespace ecmgw::sim {

class AnswerLog {
  public:
    explicit AnswerLog(const std::string& path);  // empty: no log
    bool is_open() const { return out_.is_open(); }
    // Flushed line by line: tests read the file while the simulator runs.
    void write(const SimMeter& meter, const std::vector<AnsweredValue>& values);

  private:
    std::ofstream out_;
};

}  // namespace ecmgw::sim
