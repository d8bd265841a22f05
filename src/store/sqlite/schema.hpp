// The SQLite schema, as an ordered list of migrations applied by PRAGMA user_version.
#pragma once

namespace stagepass::sqlite {
class Connection;
// Applies the migrations the database has not seen yet, in one transaction each.
void migrate(Connection& db);
}  // namespace stagepass::sqlite
