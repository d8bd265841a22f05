#include "store/sqlite/sqlite_revocation_log.hpp"

#include <sys/stat.h>

#include "store/sqlite/sqlite_store.hpp"

namespace stagepass::sqlite {
namespace {

RevocationEntry read_entry(const Stmt& s) {
  return {s.i64(0), s.text(1), s.text(2), s.text(3), s.i64(4)};
}

}  // namespace

int64_t revocation_start_on(Connection& db, int64_t since) {
  auto first = db.prepare("SELECT MIN(seq) FROM revocations WHERE at >= ?");
  first.bind(1, since);
  if (first.step() && !first.is_null(0)) return first.i64(0) - 1;
  // AUTOINCREMENT's counter: the highest seq ever written, even if pruned since.
  auto max = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'revocations'");
  return max.step() ? max.i64(0) : 0;
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
        "(SELECT seq FROM revocations WHERE at < ? AND seq < (SELECT MAX(seq) FROM revocations) "
        "ORDER BY seq LIMIT ?)")
      .bind_all(before, static_cast<int64_t>(limit))
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

Result<int64_t> SqliteRevocationLog::revocation_start(int64_t since) {
  return guarded([&](Connection& db) { return revocation_start_on(db, since); });
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
Result<int64_t> SqliteStore::revocation_start(int64_t since) {
  return read([&](Connection& db) -> Result<int64_t> { return revocation_start_on(db, since); });
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

Result<int64_t> SqliteStore::prune_revocations(int64_t before, int limit) {
  return write(
      [&](Connection& db) -> Result<int64_t> { return prune_revocations_on(db, before, limit); });
}

}  // namespace stagepass::sqlite
