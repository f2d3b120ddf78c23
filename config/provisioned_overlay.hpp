// Private to the config module: lays the cloud's provisioned entities over the
// parsed file before the file's own checks run.
#pragma once

#include <toml++/toml.h>

#include <span>

#include "ecmgw/config/provisioned.hpp"
#include "toml_check.hpp"

namespace ecmgw::config {

// Each entity replaces the file's [[kind]] tables with its id (all of them: a
// tariff's versions go together), or removes them when its body is nullopt. A body
// that is not a JSON object of TOML-able values is an error under "<kind> <id>".
void lay_over(toml::table& root, std::span<const Provisioned> provisioned, check::Errors& errors);

}  // namespace ecmgw::config
