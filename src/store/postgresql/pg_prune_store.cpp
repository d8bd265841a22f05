// PgStore: pruning (store/prune_store.hpp, issue17:prune). Each call is one statement in its
// own transaction: at most `limit` rows found through an index of migration 5, far below the
// statement timeout. Rows another transaction holds (a rotation, another node's pruner) are
// skipped (FOR UPDATE SKIP LOCKED), so nodes pruning together neither wait on each other nor
// on the requests; a row already deleted is simply not found. The refresh-token sweep's
// key-range deletes wait for such a row instead (a rotation holds its row for milliseconds).
#include "store/postgresql/pg_store_internal.hpp"

namespace stagepass::postgresql {
using namespace internal;

namespace {

// Runs the prepared `sql` (parameters: a bound, then the limit); the rows it deleted.
Result<int64_t> delete_batch(PgConnection& c, const char* name, const char* sql, int64_t bound,
                             int limit) {
  SP_PG_TRY(r, c.prepared(name, sql, {num(bound), num(limit)}));
  return r->affected();
}

}  // namespace

Result<int64_t> PgStore::prune_codes(int64_t before, int limit) {
  return pool_.run([&](PgConnection& c) {
    return delete_batch(c, "prune_codes",
                        "DELETE FROM codes WHERE hash IN (SELECT hash FROM codes "
                        "WHERE expires_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
                        before, limit);
  });
}

Result<PruneStore::Swept> PgStore::sweep_refresh_tokens(int64_t idle_before, int64_t rotated_before,
                                                        int limit) {
  std::lock_guard lk(sweep_mu_);  // one step at a time moves the position
  auto step = pool_.run([&](PgConnection& c) -> Result<std::pair<Swept, std::string>> {
    // The next `limit` keys after the position, by the primary key: how many, and the last.
    SP_PG_TRY(range, c.prepared("sweep_refresh_range",
                                "SELECT count(*), max(hash) FROM (SELECT hash FROM "
                                "refresh_tokens WHERE hash > $1 ORDER BY hash LIMIT $2) s",
                                {sweep_after_, num(limit)}));
    Swept out;
    out.wrapped = range->i64(0, 0) < limit;
    if (range->i64(0, 0) == 0) return std::pair{out, std::string()};
    const std::string last = range->text(0, 1);
    // Another node's sweep may delete the same rows first: each statement deletes what is
    // still there.
    SP_PG_TRY(expired, c.prepared("sweep_refresh_expired",
                                  "DELETE FROM refresh_tokens WHERE hash > $1 AND hash <= $2 "
                                  "AND rotated_at IS NULL AND idle_expires_at < $3",
                                  {sweep_after_, last, num(idle_before)}));
    SP_PG_TRY(rotated, c.prepared("sweep_refresh_rotated",
                                  "DELETE FROM refresh_tokens WHERE hash > $1 AND hash <= $2 "
                                  "AND rotated_at < $3",
                                  {sweep_after_, last, num(rotated_before)}));
    out.expired = expired->affected();
    out.rotated = rotated->affected();
    return std::pair{out, out.wrapped ? std::string() : last};
  });
  if (!step) return fail(std::move(step.error()));
  sweep_after_ = std::move(step->second);
  return step->first;
}

Result<int64_t> PgStore::cap_rotated_refresh_tokens(int keep, int64_t rotated_before, int limit) {
  return rotated_grants_.cap(keep, limit, [&](const std::string& grant_id, int k, int n) {
    return pool_.run([&](PgConnection& c) -> Result<int64_t> {
      // The grant's rotated tokens newest first beyond the newest k, of those the ones
      // rotated before `rotated_before`, at most n. A row another node deletes meanwhile is
      // waited for and then found gone: several nodes may cap at once.
      SP_PG_TRY(r, c.prepared("cap_refresh_rotated",
                              "DELETE FROM refresh_tokens WHERE hash IN (SELECT hash FROM "
                              "(SELECT hash, rotated_at, row_number() OVER (ORDER BY "
                              "rotated_at DESC, hash DESC) AS newer FROM refresh_tokens "
                              "WHERE grant_id = $1 AND rotated_at IS NOT NULL) s "
                              "WHERE newer > $2 AND rotated_at < $4 LIMIT $3)",
                              {grant_id, num(k), num(n), num(rotated_before)}));
      return r->affected();
    });
  });
}

Result<int64_t> PgStore::prune_sessions(int64_t before, int limit) {
  return pool_.run([&](PgConnection& c) {
    return delete_batch(c, "prune_sessions",
                        "DELETE FROM sessions WHERE hash IN (SELECT hash FROM sessions "
                        "WHERE expires_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
                        before, limit);
  });
}

Result<int64_t> PgStore::prune_events(int64_t before, int limit) {
  return pool_.run([&](PgConnection& c) {
    return delete_batch(c, "prune_events",
                        "DELETE FROM events WHERE id IN (SELECT id FROM events "
                        "WHERE at < $1 ORDER BY at LIMIT $2 FOR UPDATE SKIP LOCKED)",
                        before, limit);
  });
}

}  // namespace stagepass::postgresql
