// PgStore: per-app usage series and abuse warnings (UsageStore, issue 15).
//
// Deleting a client deletes its buckets and warnings (the clients_delete_usage trigger,
// pg_schema.cpp). A write here for a client first locks the client's row (FOR KEY SHARE for
// buckets, FOR NO KEY UPDATE for warnings), so a deletion racing it either commits first
// (the row is then gone: nothing written) or waits for it (and its trigger then deletes
// what was written): no orphan comes back, as behind SQLite's single writer.
// save_usage also takes a transaction-scoped advisory lock (kUsageLock): nodes saving at
// once (each on its own period) run one after the other, so one's retention DELETE never
// waits on rows another has updated while that one waits on it (no deadlock).
#include <algorithm>
#include <tuple>

#include "store/postgresql/pg_store_internal.hpp"

namespace stagepass::postgresql {
using namespace internal;

namespace {

// The advisory lock's key: "sp-usage" in ASCII (kMigrationLock is "stagepas").
constexpr int64_t kUsageLock = 0x73702d7573616765;

Result<std::vector<AppUsageRow>> read_rows(const PgResult& r) {
  std::vector<AppUsageRow> out;
  out.reserve(static_cast<size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back({r.text(i, 0), r.i64(i, 1), r.i64(i, 2), r.text(i, 3)});
  }
  return out;
}

}  // namespace

Status<> PgStore::save_usage(const std::vector<AppUsageRow>& rows, int64_t now,
                             int64_t keep_seconds) {
  const int64_t cutoff = now - keep_seconds;
  // A bucket older than the cutoff would be deleted again below, in this transaction (as
  // SQLite's insert-then-delete): not written at all. The rest in key order, so writers
  // lock shared rows in one order.
  std::vector<const AppUsageRow*> kept;
  for (const auto& r : rows) {
    if (r.start >= cutoff) kept.push_back(&r);
  }
  std::sort(kept.begin(), kept.end(), [](const AppUsageRow* a, const AppUsageRow* b) {
    return std::tie(a->client_id, a->span, a->start) < std::tie(b->client_id, b->span, b->start);
  });
  return pool_.transaction([&](PgConnection& c) -> Status<> {
    SP_PG_TRY(lock,
              c.prepared("lock_usage", "SELECT pg_advisory_xact_lock($1)", {num(kUsageLock)}));
    for (const AppUsageRow* r : kept) {
      // Not for a client deleted since (its rows went with it): no orphan comes back.
      SP_PG_TRY(client,
                c.prepared("lock_client_for_usage",
                           "SELECT 1 FROM clients WHERE id = $1 FOR KEY SHARE", {r->client_id}));
      if (client->rows() == 0) continue;
      SP_PG_TRY(up, c.prepared("save_usage",
                               "INSERT INTO app_usage (client_id, span, start, data) "
                               "VALUES ($1, $2, $3, $4) ON CONFLICT (client_id, span, start) "
                               "DO UPDATE SET data = excluded.data",
                               {r->client_id, num(r->span), num(r->start), r->data}));
    }
    SP_PG_TRY(
        old, c.prepared("drop_old_usage", "DELETE FROM app_usage WHERE start < $1", {num(cutoff)}));
    return Ok{};
  });
}

Result<std::vector<AppUsageRow>> PgStore::load_usage(int64_t since) {
  return pool_.run([&](PgConnection& c) -> Result<std::vector<AppUsageRow>> {
    SP_PG_TRY(r, c.prepared("load_usage",
                            "SELECT client_id, span, start, data FROM app_usage WHERE start >= $1",
                            {num(since)}));
    return read_rows(*r);
  });
}

Result<std::vector<AppUsageRow>> PgStore::load_app_usage(const std::string& client_id,
                                                         int64_t since) {
  return pool_.run([&](PgConnection& c) -> Result<std::vector<AppUsageRow>> {
    SP_PG_TRY(r, c.prepared("load_app_usage",
                            "SELECT client_id, span, start, data FROM app_usage "
                            "WHERE client_id = $1 AND start >= $2",
                            {client_id, num(since)}));
    return read_rows(*r);
  });
}

Status<> PgStore::record_app_warning(const AppWarning& w) {
  return pool_.transaction([&](PgConnection& c) -> Status<> {
    // Warnings of one app are written one at a time (the bound below counts committed rows).
    SP_PG_TRY(client,
              c.prepared("lock_client_for_warning",
                         "SELECT 1 FROM clients WHERE id = $1 FOR NO KEY UPDATE", {w.client_id}));
    if (client->rows() == 0) return Ok{};  // no such app: nothing stored
    SP_PG_TRY(ins, c.prepared("record_app_warning",
                              "INSERT INTO app_warnings (client_id, at, type, detail) "
                              "VALUES ($1, $2, $3, $4)",
                              {w.client_id, num(w.at), w.type, w.detail}));
    // issue15-fix:abuse: bounded per app, the newest kept (index app_warnings_client).
    SP_PG_TRY(bound, c.prepared("bound_app_warnings",
                                "DELETE FROM app_warnings WHERE client_id = $1 AND id <= "
                                "(SELECT id FROM app_warnings WHERE client_id = $1 "
                                "ORDER BY id DESC LIMIT 1 OFFSET $2)",
                                {w.client_id, num(kMaxWarningsPerApp)}));
    return Ok{};
  });
}

Result<std::vector<AppWarning>> PgStore::app_warnings(const std::string& client_id, int limit) {
  return read_history([&](PgConnection& c) -> Result<std::vector<AppWarning>> {
    SP_PG_TRY(r, c.prepared("app_warnings",
                            "SELECT id, client_id, at, type, detail FROM app_warnings "
                            "WHERE client_id = $1 ORDER BY id DESC LIMIT $2",
                            {client_id, limit < 0 ? PgParam{} : num(limit)}));
    std::vector<AppWarning> out;
    for (int i = 0; i < r->rows(); ++i) {
      out.push_back({r->i64(i, 0), r->text(i, 1), r->i64(i, 2), r->text(i, 3), r->text(i, 4)});
    }
    return out;
  });
}

}  // namespace stagepass::postgresql
