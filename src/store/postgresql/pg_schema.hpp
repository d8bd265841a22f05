// The PostgreSQL store's schema, as versioned migrations (pg_migrations.hpp applies them once
// per database, under an advisory lock). Append only: a released migration never changes.
//
// The same data as the SQLite schema (src/store/sqlite/schema.cpp), written for PostgreSQL:
// times are BIGINT unix seconds, hashes and lists TEXT as SQLite stores them, e-mail
// uniqueness ignores ASCII case only (SQLite's NOCASE), and SQLite's rowid order is an
// identity column where a listing relies on it.
#pragma once

#include <string_view>
#include <vector>

namespace stagepass::postgresql {

// Every migration of the PostgreSQL store, oldest first.
const std::vector<std::string_view>& schema_migrations();

}  // namespace stagepass::postgresql
