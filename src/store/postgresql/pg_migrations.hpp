// Versioned schema migrations for PostgreSQL, safe when several nodes start together.
//
// Migration i (1-based) of the list is applied once per database. migrate() takes a
// transaction-scoped advisory lock (pg_advisory_xact_lock(kMigrationLock)), so nodes that
// start together apply the list one after another: the first applies what is missing, the
// others then find nothing to do. Everything missing is applied in that one transaction
// with its rows in schema_migrations: a failing migration leaves the database as it was.
// A database that a newer build migrated further is left as it is (migrations only add, so
// an older node keeps working during a rolling upgrade).
// Append only: a released migration never changes.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "store/postgresql/pg_connection.hpp"

namespace stagepass::postgresql {

// The advisory lock's key: "stagepas" in ASCII.
inline constexpr int64_t kMigrationLock = 0x7374616765706173;

// Applies the migrations `db` has not seen, at time `now` (recorded); returns how many.
// kIo, with nothing applied, when one fails.
Result<int> migrate(PgConnection& db, const std::vector<std::string_view>& migrations, int64_t now);

}  // namespace stagepass::postgresql
