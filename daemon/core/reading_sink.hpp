// Where bus pollers hand their readings: the core's ingest queue in the daemon,
// a printer in the technician's `ecmgw read`.
#pragma once

#include <vector>

#include "ecmgw/store/store.hpp"

namespace ecmgw::core {

class ReadingSink {
  public:
    virtual ~ReadingSink() = default;
    virtual void accept(std::vector<store::Reading> readings) = 0;
};

}  // namespace ecmgw::core
