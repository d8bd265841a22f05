// RevocationFeed: keeps this node's RevocationSet in step with the store: the grants revoked
// within the retention window are loaded at start, and each poll() adds those revoked since
// the last poll. Run poll() from Background (every second, and at once after this node
// revokes something), so a revoked grant's access tokens are refused on the next request.
// It reads only the store's RevocationLog role, and once an hour deletes the deleted_clients
// rows older than the retention plus the lookback (no token of theirs is alive, and no poll
// reads them again). Lifetime: keeps references to the log, the
// set and the clock; all three must outlive it.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "core/clock.hpp"
#include "store/revocation_log.hpp"
#include "tokens/revocation_set.hpp"

namespace stagepass {

class RevocationFeed {
 public:
  // `lookback`: how many seconds before the last poll each poll reads again. A revocation's
  // time is taken from a clock before its write commits (which may wait on the group
  // commit or on a busy database) and perhaps on another machine (clock skew), so it can be
  // older than the last poll by the time it is visible: every revocation written within
  // `lookback` seconds of its timestamp is seen.
  RevocationFeed(RevocationLog& log, RevocationSet& set, const Clock& clock, int64_t retention,
                 int64_t lookback)
      : log_(log),
        set_(set),
        clock_(clock),
        retention_(retention),
        lookback_(lookback),
        since_(clock.now() - retention) {}
  // Blocking (reads the store). Safe to call from several threads. When it returns, a poll
  // that started after the call has run: everything revoked before the call is in the set.
  // Calls that arrive while a poll runs share the next one (a flood of revocations costs
  // one store read per poll's duration, not one per revocation).
  void poll();
  // issue15-fix:abuse. Called (from poll()) with the id of each client deleted since the last
  // poll, and again while it is within the lookback: must be idempotent. Set before polling.
  void on_client_deleted(std::function<void(const std::string&)> f) { on_deleted_ = std::move(f); }

 private:
  RevocationLog& log_;
  RevocationSet& set_;
  const Clock& clock_;
  const int64_t retention_;
  const int64_t lookback_;
  bool poll_locked();  // false: the store could not be read, nothing changed

  std::mutex mu_;                   // one poll at a time
  std::atomic<uint64_t> asked_{0};  // calls so far
  uint64_t served_ = 0;             // calls (by count) that a finished poll had seen start
  int64_t since_;
  int64_t next_sweep_ = 0;
  int64_t next_prune_ = 0;  // issue15-fix:revocation-bound: deleted_clients, once an hour
  std::function<void(const std::string&)> on_deleted_;
};

}  // namespace stagepass
