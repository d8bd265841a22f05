// Pruner: deletes what no decision reads any more (issue17:prune), so that sign-ins and
// refreshes do not grow the accounts store without end: authorization codes, expired and old
// rotated refresh tokens (and, per grant, rotated tokens beyond the newest few), expired
// page sessions and old audit events, through PruneStore (store/prune_store.hpp).
//
// Run by Background on accounts nodes only (an api-only node never prunes). A pass deletes
// each kind in batches of `batch` rows (refresh tokens' expiry and reuse window: `batch`-token
// steps of a sweep that goes on at the next pass), one store call each (on SQLite a job of the
// group-commit writer between the requests' writes, and a sweep step reads its ranges on a
// reader and writes only when something in them is due; on PostgreSQL one short statement), at
// most `max_batches` per kind, so a pass never holds the store or the background thread
// long; a kind that filled its batches is pruned again at the next tick, the others at the
// next interval. Several nodes may prune one PostgreSQL database at once (idempotent).
// What each retention means for the decisions: docs/operations.md, "Pruning";
// docs/security.md, "Refresh token reuse".
// Thread safety: run() from one thread (Background's).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "core/clock.hpp"
#include "monitor/metrics.hpp"
#include "store/prune_store.hpp"

namespace stagepass {

// A rotated refresh token is never capped away in its first day: a thief who rotates a stolen
// token many times at once would otherwise push out the token the app still holds, and the
// app presenting it would no longer revoke the grant (RFC 9700 §4.14.2).
constexpr int64_t kCapFloorSeconds = 86400;

struct PruneSettings {
  int64_t interval = 10;  // seconds between passes; 0: never prune
  // Codes, never-rotated refresh tokens and sessions go this long after their end, so a
  // clock a little behind on another node still finds what it decides on.
  int64_t margin = 3600;
  int64_t reuse_window = 7 * 86400;       // a rotated refresh token is kept this long (reuse)
  int rotated_keep = 20;                  // ... but at most this many per grant, the newest,
                                          // of those rotated over kCapFloorSeconds ago
  int64_t audit_retention = 180 * 86400;  // audit events older than this go; 0: kept
  int batch = 500;                        // rows per store call
  int max_batches = 40;                   // calls per kind per pass
};

class Pruner {
 public:
  enum Kind { kCodes, kRefreshExpired, kRefreshRotated, kRefreshCapped, kSessions, kEvents };
  static constexpr int kKinds = 6;
  using Counts = std::array<int64_t, kKinds>;

  // Declares and resolves stagepass_pruned_rows_total{kind=...} in `metrics`.
  Pruner(PruneStore& store, const Clock& clock, Metrics& metrics, PruneSettings settings);

  // A pass when one is due (Background calls this every tick). Blocking. Failures are
  // logged; the next pass tries again.
  void run();
  // One pass at `now`: the rows deleted per kind. Blocking.
  Counts pass(int64_t now);

 private:
  // Deletes one kind in batches until a call deletes less than a batch or max_batches ran;
  // true if it stopped at max_batches (more may be due at once). Refresh tokens: up to
  // max_batches steps of the sweep, which goes on at the next pass.
  bool drain(Kind kind, int64_t now, Counts& deleted);
  void count(Kind kind, int64_t n, Counts& deleted);

  PruneStore& store_;
  const Clock& clock_;
  PruneSettings settings_;
  std::array<std::atomic<uint64_t>*, kKinds> counters_{};
  int64_t next_pass_ = 0;
};

}  // namespace stagepass
