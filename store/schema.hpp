// Internal to the store: the schema migrations (schema.cpp), used by Store::open.
#pragma once

#include "ecmgw/common/expected.hpp"

struct sqlite3;

namespace ecmgw::store::detail {

// Brings the database to Store::kSchemaVersion, one migration per transaction,
// and refuses a database written by a newer build (its user_version is higher).
Result migrate(sqlite3* db);

}  // namespace ecmgw::store::detail
