// PgStore: pruning (store/prune_store.hpp, issue17:prune). Each call is one statement in its
// own transaction: at most `limit` rows found through an index of migration 5, far below the
// statement timeout. Rows another transaction holds (a rotation, another node's pruner) are
// skipped (FOR UPDATE SKIP LOCKED), so nodes pruning together neither wait on each other nor
// on the requests; a row already deleted is simply not found.
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

Result<int64_t> PgStore::prune_expired_refresh_tokens(int64_t before, int limit) {
  return pool_.run([&](PgConnection& c) {
    return delete_batch(c, "prune_refresh_expired",
                        "DELETE FROM refresh_tokens WHERE hash IN (SELECT hash FROM "
                        "refresh_tokens WHERE rotated_at IS NULL AND idle_expires_at < $1 "
                        "LIMIT $2 FOR UPDATE SKIP LOCKED)",
                        before, limit);
  });
}

Result<int64_t> PgStore::prune_rotated_refresh_tokens(int64_t before, int limit) {
  return pool_.run([&](PgConnection& c) {
    return delete_batch(c, "prune_refresh_rotated",
                        "DELETE FROM refresh_tokens WHERE hash IN (SELECT hash FROM "
                        "refresh_tokens WHERE rotated_at IS NOT NULL AND rotated_at < $1 "
                        "LIMIT $2 FOR UPDATE SKIP LOCKED)",
                        before, limit);
  });
}

Result<int64_t> PgStore::cap_rotated_refresh_tokens(int keep, int limit) {
  return rotated_grants_.cap(keep, limit, [&](const std::string& grant_id, int k, int n) {
    return pool_.run([&](PgConnection& c) -> Result<int64_t> {
      // The grant's rotated tokens newest first, skipping the newest k. A row a rotation
      // holds is skipped, not counted among the k: more stay, never fewer.
      SP_PG_TRY(r, c.prepared("cap_refresh_rotated",
                              "DELETE FROM refresh_tokens WHERE hash IN (SELECT hash FROM "
                              "refresh_tokens WHERE grant_id = $1 AND rotated_at IS NOT NULL "
                              "ORDER BY rotated_at DESC, hash DESC OFFSET $2 LIMIT $3 "
                              "FOR UPDATE SKIP LOCKED)",
                              {grant_id, num(k), num(n)}));
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
