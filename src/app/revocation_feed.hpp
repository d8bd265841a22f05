// RevocationFeed: keeps this node's RevocationSet in step with the store's revocations log
// (store/revocation_log.hpp, issue16:revlog): the first poll loads the retention window up to
// the last entry older than the lookback (RevocationStart::settled: every number below it has
// committed or never will), and reads on from there, so a revocation still in flight when the
// node started is a hole it waits for like any other. Each poll() applies the entries after the
// highest sequence number it has read, plus those that filled a hole it saw (SeqGaps: PostgreSQL
// commits sequence numbers out of order; holes are re-read for `lookback` seconds). Applying is
// idempotent. Run poll() from the revocation follower (app/revocation_follower.hpp: on every
// notification, and every poll interval) and at once after this node revokes something, so
// a revoked grant's access tokens are refused on the next request.
// With a RevocationHistory (the accounts store), it also prunes, once an hour and bounded
// per run, the log entries and deleted_clients rows older than the retention plus the
// lookback (no token they cover is alive). A read-only reader (an api-only node) prunes
// nothing. Lifetime: keeps references to the log, the set and the clock; all three must
// outlive it.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "app/seq_gaps.hpp"
#include "core/clock.hpp"
#include "store/revocation_log.hpp"
#include "store/store.hpp"
#include "tokens/revocation_set.hpp"

namespace stagepass {

class RevocationFeed {
 public:
  // `retention`: how far back the first poll loads (a token lifetime plus skew).
  // `lookback`: how many seconds a hole in the sequence is re-read (the longest a revoking
  // transaction may take from its insert to its commit and still be seen).
  RevocationFeed(RevocationLog& log, RevocationHistory* prune, RevocationSet& set,
                 const Clock& clock, int64_t retention, int64_t lookback)
      : log_(log),
        prune_(prune),
        set_(set),
        clock_(clock),
        retention_(retention),
        lookback_(lookback),
        gaps_(lookback, kMaxHoles),
        last_read_(clock.now()) {}
  // The accounts store: reads its log and prunes it.
  RevocationFeed(Store& store, RevocationSet& set, const Clock& clock, int64_t retention,
                 int64_t lookback)
      : RevocationFeed(store, &store, set, clock, retention, lookback) {}
  // A read-only reader: reads only.
  RevocationFeed(RevocationLog& log, RevocationSet& set, const Clock& clock, int64_t retention,
                 int64_t lookback)
      : RevocationFeed(log, nullptr, set, clock, retention, lookback) {}
  // Blocking (reads the store). Safe to call from several threads. When it returns, a poll
  // that started after the call has run: everything committed to the log before the call is
  // in the set. Calls that arrive while a poll runs share the next one (a flood of
  // revocations costs one store read per poll's duration, not one per revocation).
  void poll();
  // issue15-fix:abuse. Called (from poll()) with the id of each client deleted, when its log
  // entry is applied (at least once): must be idempotent. Set before polling.
  void on_client_deleted(std::function<void(const std::string&)> f) { on_deleted_ = std::move(f); }
  // Log entries applied so far, and holes given up on (over kMaxHoles): for tests and metrics.
  uint64_t applied() const { return applied_.load(); }
  uint64_t holes_dropped() const;
  // True once a poll has read the log (the retention window is in the set): until then this
  // node cannot know what was revoked, and is not ready (/readyz). It stays true when later
  // polls fail (a database outage: the set keeps what it learnt).
  bool loaded() const { return loaded_.load(); }
  // Seconds since the last poll that read the log (or since the feed was made, before the
  // first): stagepass_revocation_feed_age_seconds.
  int64_t age() const { return clock_.now() - last_read_.load(); }
  // A failed poll is logged (with the store's error, which names no password) at most once
  // per this many seconds.
  static constexpr int64_t kFailureLogSeconds = 10;

  static constexpr int kPage = 1000;
  static constexpr size_t kMaxHoles = 10000;
  static constexpr int kPruneBatch = 10000;

 private:
  // An error: the store could not be read (what was read is applied).
  Status<> poll_locked();
  Status<> start_locked(int64_t now);
  void apply(const RevocationEntry& e);
  void prune(int64_t now);

  RevocationLog& log_;
  RevocationHistory* prune_;
  RevocationSet& set_;
  const Clock& clock_;
  const int64_t retention_;
  const int64_t lookback_;

  mutable std::mutex mu_;           // one poll at a time
  std::atomic<uint64_t> asked_{0};  // calls so far
  uint64_t served_ = 0;             // calls (by count) that a finished poll had seen start
  bool started_ = false;
  SeqGaps gaps_;
  std::atomic<uint64_t> applied_{0};
  int64_t next_sweep_ = 0;
  int64_t next_prune_ = 0;  // once an hour (sooner while a batch was full)
  std::function<void(const std::string&)> on_deleted_;
  std::atomic<bool> loaded_{false};
  std::atomic<int64_t> last_read_;
  int64_t next_failure_log_ = 0;
};

}  // namespace stagepass
