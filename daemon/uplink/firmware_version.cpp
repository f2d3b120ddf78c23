#include "uplink/firmware_version.hpp"

// Defined for this file alone (daemon/CMakeLists.txt), so a version bump rebuilds
// one file and not the whole library.
#ifndef ECMGW_VERSION
#error "ECMGW_VERSION must be defined by the build"
#endif

namespace ecmgw::uplink {

std::string_view firmware_version() { return ECMGW_VERSION; }

}  // namespace ecmgw::uplink
