// apply_migrations: brings a SQLite file to `migrations.size()` (its user_version counts the
// migrations it has had), each migration in its own write transaction. Shared by the accounts
// store and the music catalog.
// Each migration reads the version again under its BEGIN IMMEDIATE (one process at a time),
// not only once before: a server and an `admin` command started together on a new file both
// saw version 0, and the second to get the lock ran a migration the first had applied ("table
// refresh_families already exists"). A file already up to date, or newer, takes no lock.
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "store/sqlite/connection.hpp"

namespace stagepass::sqlite {

inline void apply_migrations(Connection& db, std::span<const char* const> migrations) {
  auto version = [&] {
    auto s = db.prepare("PRAGMA user_version");
    s.step();
    return static_cast<size_t>(s.i64(0));
  };
  if (version() >= migrations.size()) return;
  for (;;) {
    Transaction tx(db);
    const size_t v = version();
    if (v >= migrations.size()) return;  // another process finished them; nothing written
    db.exec(migrations[v]);
    db.exec(("PRAGMA user_version=" + std::to_string(v + 1)).c_str());
    tx.commit();
  }
}

}  // namespace stagepass::sqlite
