// The SQLite schema, as an ordered list of migrations applied by PRAGMA user_version.
#pragma once

#include <cstddef>
#include <string_view>

namespace stagepass::sqlite {
class Connection;
// Applies the migrations the database has not seen yet, in one transaction each.
void migrate(Connection& db);
// For upgrade tests: applies only the migrations before index `up_to`.
void migrate(Connection& db, size_t up_to);
// For upgrade tests: the index of the first migration whose text holds `marker` (e.g.
// "-- issue15:secrets"); the number of migrations when none does.
size_t migration_index(std::string_view marker);
}  // namespace stagepass::sqlite
