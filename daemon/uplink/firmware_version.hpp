// The version the gateway reports in its status (the CMake project version).
#pragma once

#include <string_view>

namespace ecmgw::uplink {

std::string_view firmware_version();

}  // namespace ecmgw::uplink
