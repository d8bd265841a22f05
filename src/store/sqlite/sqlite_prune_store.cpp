// SqliteStore: pruning (store/prune_store.hpp, issue17:prune). Each deletion is one job of the
// group-commit writer (connection_pool.hpp): at most `limit` rows deleted by primary key,
// found through an index of migration issue17:prune, inside the group's transaction, so a
// batch holds the writer for one short statement between other writes, never a long
// exclusive transaction of its own. A step of the refresh-token sweep first reads its ranges
// on a reader and writes only when a range holds a due row (sweep_refresh_tokens).
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
  return write_background([&](Connection& db) -> Result<int64_t> {
    return delete_batch(db,
                        "DELETE FROM codes WHERE hash IN "
                        "(SELECT hash FROM codes WHERE expires_at < ? LIMIT ?)",
                        before, limit);
  });
}

// The step's ranges, and whether anything in them is due, are read on a reader connection;
// the writer runs a job only when a range holds a due row, and then deletes by the same range
// and conditions, so each row is judged again on the state at delete time (a rotation in
// between moves its times on; a row that became due in between waits for the next round; rows
// inserted into the range in between are looked at too, and are never due yet).
// What it saves: both tables' keys begin with the issue time (tokens/opaque_token.hpp), so
// the ranges of rows younger than their idle lifetime plus the margin hold nothing due and now
// cost the writer nothing; older ranges, where something usually is due, cost it about what
// they did. Why: a store that grew by a million young chains in a bench run had every pass
// run its 40 steps, each reading 2 x `limit` rows on the writer between the grants of its
// group. The mixed row's p99 by round, two runs each on the same store growth (refresh,
// code, mixed; three rounds): before 12.7, 19.5, 81.4 and 10.4, 13.3, 35.1 ms; after 18.6,
// 14.8, 13.1 and 17.6, 14.9, 27.0 ms. The third round's tail is lower, not gone (issue 17).
Result<PruneStore::Swept> SqliteStore::sweep_refresh_tokens(int64_t idle_before,
                                                            int64_t rotated_before, int limit) {
  std::lock_guard lk(sweep_mu_);  // one step at a time moves the positions
  struct Plan {
    std::string tokens_last, families_last;  // empty: nothing in the range
    bool tokens_wrapped = false, families_wrapped = false;
    bool tokens_due = false, families_due = false;
  };
  auto plan = read([&](Connection& db) -> Result<Plan> {
    Plan out;
    // One table's part of the step, from `after` (kSwept: done for this round): the next
    // `limit` keys, the last of them in `last` (the step's range; left empty when there are
    // none), and whether any row in that range is due (`due_sql`: bound to the range and the
    // two times). Returns whether the table was read to its end.
    auto plan_table = [&](const char* range_sql, const char* due_sql, const std::string& after,
                          std::string& last, bool& due) {
      if (after == kSwept) return true;
      auto range = db.prepare(range_sql);
      range.bind_all(after, static_cast<int64_t>(limit)).step();
      const bool wrapped = range.i64(0) < limit;
      if (range.i64(0) > 0) {
        last = range.text(1);
        due = db.prepare(due_sql).bind_all(after, last, idle_before, rotated_before).step();
      }
      return wrapped;
    };
    // Each table is swept to its end once a round; the round ends when both are.
    out.tokens_wrapped = plan_table(
        "SELECT count(*), max(hash) FROM "
        "(SELECT hash FROM refresh_tokens WHERE hash > ? ORDER BY hash LIMIT ?)",
        "SELECT 1 FROM refresh_tokens WHERE hash > ? AND hash <= ? AND "
        "((rotated_at IS NULL AND idle_expires_at < ?) OR rotated_at < ?) LIMIT 1",
        sweep_after_, out.tokens_last, out.tokens_due);
    // issue17:family. A chain's row goes once its current token is past its idle end (never
    // later than the chain's absolute end: the chain can no longer be used) and its last
    // rotation is past the reuse window: until then a spent token of the chain presented
    // again still revokes the grant.
    out.families_wrapped = plan_table(
        "SELECT count(*), max(family) FROM "
        "(SELECT family FROM refresh_families WHERE family > ? ORDER BY family LIMIT ?)",
        "SELECT 1 FROM refresh_families WHERE family > ? AND family <= ? "
        "AND idle_expires_at < ? AND (rotated_at IS NULL OR rotated_at < ?) LIMIT 1",
        family_sweep_after_, out.families_last, out.families_due);
    return out;
  });
  if (!plan) return fail(std::move(plan.error()));
  Swept swept;
  if (plan->tokens_due || plan->families_due) {
    auto deleted = write_background([&](Connection& db) -> Result<Swept> {
      Swept out;
      if (plan->tokens_due) {
        db.prepare(
              "DELETE FROM refresh_tokens WHERE hash > ? AND hash <= ? "
              "AND rotated_at IS NULL AND idle_expires_at < ?")
            .bind_all(sweep_after_, plan->tokens_last, idle_before)
            .run();
        out.expired = db.changes();
        db.prepare("DELETE FROM refresh_tokens WHERE hash > ? AND hash <= ? AND rotated_at < ?")
            .bind_all(sweep_after_, plan->tokens_last, rotated_before)
            .run();
        out.rotated = db.changes();
      }
      if (plan->families_due) {
        db.prepare(
              "DELETE FROM refresh_families WHERE family > ? AND family <= ? "
              "AND idle_expires_at < ? AND (rotated_at IS NULL OR rotated_at < ?)")
            .bind_all(family_sweep_after_, plan->families_last, idle_before, rotated_before)
            .run();
        out.expired += db.changes();
      }
      return out;
    });
    if (!deleted) return fail(std::move(deleted.error()));
    swept = *deleted;
  }
  swept.wrapped = plan->tokens_wrapped && plan->families_wrapped;
  if (swept.wrapped) {
    sweep_after_.clear();  // the next round
    family_sweep_after_.clear();
  } else {
    sweep_after_ = plan->tokens_wrapped ? kSwept : plan->tokens_last;
    family_sweep_after_ = plan->families_wrapped ? kSwept : plan->families_last;
  }
  return swept;
}

Result<int64_t> SqliteStore::cap_rotated_refresh_tokens(int keep, int64_t rotated_before,
                                                        int limit) {
  // One write for up to kCapGrantsPerWrite grants: a write per grant waited for a group
  // commit each, so a pass over many grants fell behind a refresh storm (and its many small
  // writes competed with the storm's). An index seek per grant: a few ms per write at most.
  constexpr size_t kCapGrantsPerWrite = 2000;
  return write_background([&](Connection& db) -> Result<int64_t> {
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
  return write_background([&](Connection& db) -> Result<int64_t> {
    return delete_batch(db,
                        "DELETE FROM sessions WHERE hash IN "
                        "(SELECT hash FROM sessions WHERE expires_at < ? LIMIT ?)",
                        before, limit);
  });
}

Result<int64_t> SqliteStore::prune_events(int64_t before, int limit) {
  return write_background([&](Connection& db) -> Result<int64_t> {
    return delete_batch(db,
                        "DELETE FROM events WHERE id IN "
                        "(SELECT id FROM events WHERE at < ? ORDER BY at LIMIT ?)",
                        before, limit);
  });
}

}  // namespace stagepass::sqlite
