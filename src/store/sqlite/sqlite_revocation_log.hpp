// issue16:revlog. The revocations log on SQLite (store/revocation_log.hpp): the queries the
// SqliteStore runs on its pool, and SqliteRevocationLog, a small reader of an existing
// accounts database file for an api-only node on the same machine. It opens the file (never
// creates it, never migrates it) on one connection of its own and only reads; the file must be
// the one the accounts node writes (STAGEPASS_DATABASE) and WAL readers need its -shm file.
// Thread safety: SqliteRevocationLog serialises its calls (one connection, a mutex).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/revocation_log.hpp"
#include "store/sqlite/connection.hpp"

namespace stagepass::sqlite {

// The queries, on a connection the caller holds. Throw SqliteError.
RevocationStart revocation_start_on(Connection& db, int64_t since, int64_t settled_before);
std::vector<RevocationEntry> revocations_after_on(Connection& db, int64_t seq, int limit);
std::vector<RevocationEntry> revocations_in_on(Connection& db, const std::vector<int64_t>& seqs);
int64_t prune_revocations_on(Connection& db, int64_t before, int limit);

class SqliteRevocationLog : public RevocationLog {
 public:
  // kIo when `path` does not exist or cannot be opened.
  static Result<std::unique_ptr<SqliteRevocationLog>> open(const std::string& path);

  Result<RevocationStart> revocation_start(int64_t since, int64_t settled_before) override;
  Result<std::vector<RevocationEntry>> revocations_after(int64_t seq, int limit) override;
  Result<std::vector<RevocationEntry>> revocations_in(const std::vector<int64_t>& seqs) override;

 private:
  explicit SqliteRevocationLog(std::unique_ptr<Connection> db) : db_(std::move(db)) {}
  template <class F>
  auto guarded(F&& f) -> Result<decltype(f(std::declval<Connection&>()))>;

  std::mutex mu_;
  std::unique_ptr<Connection> db_;
};

}  // namespace stagepass::sqlite
