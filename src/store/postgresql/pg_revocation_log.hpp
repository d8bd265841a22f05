// issue16:revlog. The revocations log on PostgreSQL (store/revocation_log.hpp): the queries
// PgStore runs on its pool, and PgRevocationLog, the small read-only reader an api-only node
// opens (a pool of 1-2 connections; it needs SELECT on `revocations` only, not the full
// store). Commit of every revoking transaction sends NOTIFY on kRevocationChannel
// (pg_schema.cpp, migration 2); PgNotifyWaker (pg_notify_waker.hpp) listens for it.
// Thread safety: PgRevocationLog may be called from any thread (its pool leases connections).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "store/postgresql/pg_pool.hpp"
#include "store/revocation_log.hpp"

namespace stagepass::postgresql {

inline constexpr const char* kRevocationChannel = "stagepass_revocations";

// The queries, on a connection the caller holds.
Result<RevocationStart> revocation_start_on(PgConnection& c, int64_t since, int64_t settled_before);
Result<std::vector<RevocationEntry>> revocations_after_on(PgConnection& c, int64_t seq, int limit);
Result<std::vector<RevocationEntry>> revocations_in_on(PgConnection& c,
                                                       const std::vector<int64_t>& seqs);
Result<int64_t> prune_revocations_on(PgConnection& c, int64_t before, int limit);

class PgRevocationLog : public RevocationLog {
 public:
  // Connections open lazily (the first read), so a database that is down at start costs
  // failed polls, not a failed start.
  // `dbname`, when not empty, replaces the URL's database (tests).
  PgRevocationLog(std::string url, int connections = 1, std::string dbname = "",
                  std::chrono::milliseconds acquire_timeout = std::chrono::milliseconds(1000))
      : pool_({std::move(url), std::move(dbname), connections, acquire_timeout}) {}

  Result<RevocationStart> revocation_start(int64_t since, int64_t settled_before) override;
  Result<std::vector<RevocationEntry>> revocations_after(int64_t seq, int limit) override;
  Result<std::vector<RevocationEntry>> revocations_in(const std::vector<int64_t>& seqs) override;

 private:
  PgPool pool_;
};

}  // namespace stagepass::postgresql
