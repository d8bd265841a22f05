#include "store/postgresql/pg_migrations.hpp"

#include <string>

namespace stagepass::postgresql {
namespace {

Result<int> apply_missing(PgConnection& db, const std::vector<std::string_view>& migrations,
                          int64_t now) {
  if (auto s = db.query("SELECT pg_advisory_xact_lock($1)", {std::to_string(kMigrationLock)}); !s) {
    return fail(std::move(s.error()));
  }
  if (auto s = db.exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                       "version integer PRIMARY KEY, applied_at bigint NOT NULL)");
      !s) {
    return fail(std::move(s.error()));
  }
  auto current = db.query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  if (!current) return fail(std::move(current.error()));
  int applied = 0;
  for (size_t i = static_cast<size_t>(current->i64(0, 0)); i < migrations.size(); ++i) {
    const std::string version = std::to_string(i + 1);
    if (auto s = db.exec(migrations[i]); !s) {
      return fail(Error{ErrorCode::kIo, "migration " + version + ": " + s.error().message});
    }
    auto row = db.query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                        {version, std::to_string(now)});
    if (!row) return fail(std::move(row.error()));
    ++applied;
  }
  return applied;
}

}  // namespace

Result<int> migrate(PgConnection& db, const std::vector<std::string_view>& migrations,
                    int64_t now) {
  // issue16:cluster. No answer timeout here: a node may wait for the migration lock while
  // another node migrates, and a migration may take long (an index on a big table).
  const auto timeout = db.answer_timeout();
  db.set_answer_timeout(std::chrono::milliseconds{0});
  auto applied = [&]() -> Result<int> {
    if (auto s = db.exec("BEGIN"); !s) return fail(std::move(s.error()));
    // Nor the server's statement bound of pooled sessions (pg_pool.hpp, kBoundedSession), in
    // this transaction only.
    if (auto s = db.exec("SET LOCAL statement_timeout = 0"); !s) {
      (void)db.exec("ROLLBACK");
      return fail(std::move(s.error()));
    }
    auto n = apply_missing(db, migrations, now);
    if (!n) {
      (void)db.exec("ROLLBACK");
      return n;
    }
    if (auto s = db.exec("COMMIT"); !s) return fail(std::move(s.error()));
    return n;
  }();
  db.set_answer_timeout(timeout);
  return applied;
}

}  // namespace stagepass::postgresql
