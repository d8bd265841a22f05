// issue16:revlog. SeqGaps: the holes a reader of the revocations log has seen. PostgreSQL
// hands out sequence numbers when a row is inserted, not when it commits: a reader that has
// read up to 10 may later see 9 commit, and a rolled-back transaction leaves its number
// unused forever. So when the reader reads seq N right after M < N - 1, the numbers between
// are holes that may still fill; RevocationFeed re-reads them on each poll until they fill
// or `keep_seconds` (the feed's lookback) have passed since they were seen: a transaction
// that takes longer than that from its insert to its commit is not waited for (documented in
// docs/operations.md). At most `max_holes` are tracked: past that the oldest are dropped
// (counted in dropped()). Pure: no I/O, no clock of its own.
// Thread safety: none (the feed holds its lock).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

namespace stagepass {

class SeqGaps {
 public:
  SeqGaps(int64_t keep_seconds, size_t max_holes) : keep_(keep_seconds), max_(max_holes) {}
  // The reader starts after `seq` (nothing at or below it is a hole).
  void start_after(int64_t seq) { last_ = seq; }
  // The highest seq read so far (or the start).
  int64_t last() const { return last_; }
  // Records seq `seq` as read at `now`: a seq above last() makes the numbers between holes;
  // one that was a hole fills it. False if it was read before (neither new nor a hole).
  bool read(int64_t seq, int64_t now);
  // Forgets the holes seen more than keep_seconds before `now`.
  void expire(int64_t now);
  // The open holes, lowest first, at most `limit`.
  std::vector<int64_t> holes(size_t limit) const;
  size_t size() const { return holes_.size(); }
  uint64_t dropped() const { return dropped_; }

 private:
  int64_t keep_;
  size_t max_;
  int64_t last_ = 0;
  std::map<int64_t, int64_t> holes_;  // seq -> when seen
  uint64_t dropped_ = 0;
};

}  // namespace stagepass
