#include "store/sqlite/sqlite_revocation_log.hpp"

#include <sys/stat.h>

#include "store/sqlite/sqlite_store.hpp"

namespace stagepass::sqlite {
namespace {

RevocationEntry read_entry(const Stmt& s) {
  return {s.i64(0), s.text(1), s.text(2), s.text(3), s.i64(4)};
}

}  // namespace

// The same semantics as on PostgreSQL (revocation_log.hpp), though SQLite's single writer
// commits in seq order (a number above `settled` is never in flight here).
RevocationStart revocation_start_on(Connection& db, int64_t since, int64_t settled_before) {
  auto s = db.prepare(
      "SELECT (SELECT MIN(seq) - 1 FROM revocations WHERE at >= ?), "
      "COALESCE((SELECT MAX(seq) FROM revocations WHERE at < ?), 0)");
  s.bind_all(since, settled_before);
  if (!s.step()) return {};
  const int64_t settled = s.i64(1);
  return {s.is_null(0) ? settled : s.i64(0), settled};
}

std::vector<RevocationEntry> revocations_after_on(Connection& db, int64_t seq, int limit) {
  auto s = db.prepare(
      "SELECT seq, kind, id, client_id, at FROM revocations WHERE seq > ? ORDER BY seq LIMIT ?");
  s.bind_all(seq, static_cast<int64_t>(limit));
  std::vector<RevocationEntry> out;
  while (s.step()) out.push_back(read_entry(s));
  return out;
}

std::vector<RevocationEntry> revocations_in_on(Connection& db, const std::vector<int64_t>& seqs) {
  std::string list = "[";
  for (size_t i = 0; i < seqs.size() && i < 1000; ++i) {
    if (i) list += ',';
    list += std::to_string(seqs[i]);
  }
  list += ']';
  auto s = db.prepare(
      "SELECT seq, kind, id, client_id, at FROM revocations "
      "WHERE seq IN (SELECT value FROM json_each(?))");
  s.bind(1, list);
  std::vector<RevocationEntry> out;
  while (s.step()) out.push_back(read_entry(s));
  return out;
}

int64_t prune_revocations_on(Connection& db, int64_t before, int limit) {
  db.prepare(
        "DELETE FROM revocations WHERE seq IN "
        "(SELECT seq FROM revocations WHERE at < ? AND seq < "
        "(SELECT MAX(seq) FROM revocations WHERE at < ?) ORDER BY seq LIMIT ?)")
      .bind_all(before, before, static_cast<int64_t>(limit))
      .run();
  return db.changes();
}

Result<std::unique_ptr<SqliteRevocationLog>> SqliteRevocationLog::open(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return fail(Error{ErrorCode::kIo, "no accounts database at " + path});
  }
  try {
    return std::unique_ptr<SqliteRevocationLog>(
        new SqliteRevocationLog(std::make_unique<Connection>(path)));
  } catch (const SqliteError& e) {
    return fail(Error{ErrorCode::kIo, e.what()});
  }
}

template <class F>
auto SqliteRevocationLog::guarded(F&& f) -> Result<decltype(f(std::declval<Connection&>()))> {
  std::lock_guard lk(mu_);
  try {
    return f(*db_);
  } catch (const SqliteError& e) {
    return fail(Error{ErrorCode::kIo, e.what()});
  }
}

Result<RevocationStart> SqliteRevocationLog::revocation_start(int64_t since,
                                                              int64_t settled_before) {
  return guarded([&](Connection& db) { return revocation_start_on(db, since, settled_before); });
}

Result<std::vector<RevocationEntry>> SqliteRevocationLog::revocations_after(int64_t seq,
                                                                            int limit) {
  return guarded([&](Connection& db) { return revocations_after_on(db, seq, limit); });
}

Result<std::vector<RevocationEntry>> SqliteRevocationLog::revocations_in(
    const std::vector<int64_t>& seqs) {
  return guarded([&](Connection& db) { return revocations_in_on(db, seqs); });
}

// SqliteStore's RevocationLog and pruning: the same queries on the store's pool.
Result<RevocationStart> SqliteStore::revocation_start(int64_t since, int64_t settled_before) {
  return read([&](Connection& db) -> Result<RevocationStart> {
    return revocation_start_on(db, since, settled_before);
  });
}

Result<std::vector<RevocationEntry>> SqliteStore::revocations_after(int64_t seq, int limit) {
  return read([&](Connection& db) -> Result<std::vector<RevocationEntry>> {
    return revocations_after_on(db, seq, limit);
  });
}

Result<std::vector<RevocationEntry>> SqliteStore::revocations_in(const std::vector<int64_t>& seqs) {
  return read([&](Connection& db) -> Result<std::vector<RevocationEntry>> {
    return revocations_in_on(db, seqs);
  });
}

// Not write_background: see prune_deleted_clients (a revoking request may wait for it).
Result<int64_t> SqliteStore::prune_revocations(int64_t before, int limit) {
  return write(
      [&](Connection& db) -> Result<int64_t> { return prune_revocations_on(db, before, limit); });
}

}  // namespace stagepass::sqlite
