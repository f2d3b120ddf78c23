// The registry of tariffs, accounts and meters the cloud provisioned (table
// `provisioned`): one row per (kind, id), the entity's JSON object, or no body when
// the cloud removed it. The config module lays these over the config file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ecmgw/common/expected.hpp"

namespace ecmgw::store {

class Store;

struct ProvisionedRow {
    std::string kind;  // "tariff", "account", "meter"
    std::string id;
    std::optional<std::string> body;  // nullopt: removed
    std::string command;              // the id of the command that set it
    std::int64_t changed_ms = 0;
    friend bool operator==(const ProvisionedRow&, const ProvisionedRow&) = default;
};

// Every row, in the order they were last changed (the order to lay them over in).
Expected<std::vector<ProvisionedRow>> provisioned_rows(Store& store);
// Inserts or replaces the row of (kind, id); inside a transaction begun on `store`.
Result put_provisioned(Store& store, const ProvisionedRow& row);

}  // namespace ecmgw::store
