// SqliteStore: pruning (store/prune_store.hpp, issue17:prune). Each call is one job of the
// group-commit writer (connection_pool.hpp): at most `limit` rows deleted by primary key,
// found through an index of migration issue17:prune, inside the group's transaction, so a
// batch holds the writer for one short statement between other writes, never a long
// exclusive transaction of its own.
#include "store/sqlite/sqlite_store_internal.hpp"

namespace stagepass::sqlite {

namespace {

// Runs `sql` (two parameters: a bound, then the limit) and returns the rows it deleted.
int64_t delete_batch(Connection& db, const char* sql, int64_t bound, int limit) {
  db.prepare(sql).bind_all(bound, static_cast<int64_t>(limit)).run();
  return db.changes();
}

// A sweep position that stands for "this table is done for the round" (compared here only,
// never bound into a query).
const std::string kSwept = "~";

}  // namespace

Result<int64_t> SqliteStore::prune_codes(int64_t before, int limit) {
  return write([&](Connection& db) -> Result<int64_t> {
    return delete_batch(db,
                        "DELETE FROM codes WHERE hash IN "
                        "(SELECT hash FROM codes WHERE expires_at < ? LIMIT ?)",
                        before, limit);
  });
}

Result<PruneStore::Swept> SqliteStore::sweep_refresh_tokens(int64_t idle_before,
                                                            int64_t rotated_before, int limit) {
  std::lock_guard lk(sweep_mu_);  // one step at a time moves the positions
  struct Step {
    Swept swept;
    std::string tokens_after, families_after;
  };
  auto step = write([&](Connection& db) -> Result<Step> {
    Step out;
    // The next `limit` keys after the position: how many, and the last (the step's range).
    // Returns whether the table was read to its end.
    auto next_range = [&](const char* sql, const std::string& after, std::string& last) {
      auto range = db.prepare(sql);
      range.bind_all(after, static_cast<int64_t>(limit)).step();
      if (range.i64(0) > 0) last = range.text(1);
      return range.i64(0) < limit;
    };
    // Each table is swept to its end once a round; the round ends when both are.
    std::string last;
    const bool tokens_wrapped =
        sweep_after_ == kSwept || next_range(
                                      "SELECT count(*), max(hash) FROM "
                                      "(SELECT hash FROM refresh_tokens WHERE hash > ? "
                                      "ORDER BY hash LIMIT ?)",
                                      sweep_after_, last);
    if (!last.empty()) {
      db.prepare(
            "DELETE FROM refresh_tokens WHERE hash > ? AND hash <= ? "
            "AND rotated_at IS NULL AND idle_expires_at < ?")
          .bind_all(sweep_after_, last, idle_before)
          .run();
      out.swept.expired = db.changes();
      db.prepare("DELETE FROM refresh_tokens WHERE hash > ? AND hash <= ? AND rotated_at < ?")
          .bind_all(sweep_after_, last, rotated_before)
          .run();
      out.swept.rotated = db.changes();
    }
    out.tokens_after = tokens_wrapped ? kSwept : last;
    // issue17:family. A chain's row goes once its current token is past its idle end (never
    // later than the chain's absolute end: the chain can no longer be used) and its last
    // rotation is past the reuse window: until then a spent token of the chain presented
    // again still revokes the grant.
    last.clear();
    const bool families_wrapped =
        family_sweep_after_ == kSwept ||
        next_range(
            "SELECT count(*), max(family) FROM "
            "(SELECT family FROM refresh_families WHERE family > ? ORDER BY family "
            "LIMIT ?)",
            family_sweep_after_, last);
    if (!last.empty()) {
      db.prepare(
            "DELETE FROM refresh_families WHERE family > ? AND family <= ? "
            "AND idle_expires_at < ? AND (rotated_at IS NULL OR rotated_at < ?)")
          .bind_all(family_sweep_after_, last, idle_before, rotated_before)
          .run();
      out.swept.expired += db.changes();
    }
    out.families_after = families_wrapped ? kSwept : last;
    out.swept.wrapped = tokens_wrapped && families_wrapped;
    if (out.swept.wrapped) out.tokens_after = out.families_after = "";  // the next round
    return out;
  });
  if (!step) return fail(std::move(step.error()));
  sweep_after_ = std::move(step->tokens_after);
  family_sweep_after_ = std::move(step->families_after);
  return step->swept;
}

Result<int64_t> SqliteStore::cap_rotated_refresh_tokens(int keep, int64_t rotated_before,
                                                        int limit) {
  // One write for up to kCapGrantsPerWrite grants: a write per grant waited for a group
  // commit each, so a pass over many grants fell behind a refresh storm (and its many small
  // writes competed with the storm's). An index seek per grant: a few ms per write at most.
  constexpr size_t kCapGrantsPerWrite = 2000;
  return write([&](Connection& db) -> Result<int64_t> {
    return rotated_grants_.cap(
        keep, limit,
        [&](const std::string& grant_id, int k, int n) -> Result<int64_t> {
          // The grant's rotated tokens newest first (the index's order) beyond the newest k,
          // of those the ones rotated before `rotated_before`, at most n.
          db.prepare(
                "DELETE FROM refresh_tokens WHERE hash IN (SELECT hash FROM (SELECT hash, "
                "rotated_at FROM refresh_tokens WHERE grant_id = ? AND rotated_at IS NOT NULL "
                "ORDER BY rotated_at DESC, hash DESC LIMIT -1 OFFSET ?) WHERE rotated_at < ? "
                "LIMIT ?)")
              .bind_all(grant_id, static_cast<int64_t>(k), rotated_before, static_cast<int64_t>(n))
              .run();
          return db.changes();
        },
        kCapGrantsPerWrite);
  });
}

Result<int64_t> SqliteStore::prune_sessions(int64_t before, int limit) {
  return write([&](Connection& db) -> Result<int64_t> {
    return delete_batch(db,
                        "DELETE FROM sessions WHERE hash IN "
                        "(SELECT hash FROM sessions WHERE expires_at < ? LIMIT ?)",
                        before, limit);
  });
}

Result<int64_t> SqliteStore::prune_events(int64_t before, int limit) {
  return write([&](Connection& db) -> Result<int64_t> {
    return delete_batch(db,
                        "DELETE FROM events WHERE id IN "
                        "(SELECT id FROM events WHERE at < ? ORDER BY at LIMIT ?)",
                        before, limit);
  });
}

}  // namespace stagepass::sqlite
