// Tariffs, accounts and meters the cloud provisioned (tariff_set, account_set,
// meter_set and their removals). The store keeps them; each one is laid over the
// config file's entries of the same kind and id before the whole is validated by the
// same rules as the file, so a provisioned meter is checked exactly like a typed one.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "ecmgw/common/expected.hpp"

namespace ecmgw::config {

struct Provisioned {
    std::string kind;  // "tariff", "account" or "meter": the file's [[tariff]], …
    std::string id;
    // A JSON object with the keys of the file's table (for a tariff, one object or an
    // array of versions); nullopt: the entity is removed.
    std::optional<std::string> body;
};

// Whether `kind` names a provisionable table.
bool is_provisionable_kind(std::string_view kind);

}  // namespace ecmgw::config
