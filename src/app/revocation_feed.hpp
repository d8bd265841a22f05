// RevocationFeed: keeps this node's RevocationSet in step with the store: the grants revoked
// within the retention window are loaded at start, and each poll() adds those revoked since
// the last poll. Run poll() from Background (every second, and at once after this node
// revokes something), so a revoked grant's access tokens are refused on the next request.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

#include "core/clock.hpp"
#include "store/store.hpp"
#include "tokens/revocation_set.hpp"

namespace stagepass {

class RevocationFeed {
 public:
  RevocationFeed(Store& store, RevocationSet& set, const Clock& clock, int64_t retention)
      : store_(store), set_(set), clock_(clock), since_(clock.now() - retention) {}
  // Blocking (reads the store). Safe to call from several threads. When it returns, a poll
  // that started after the call has run: everything revoked before the call is in the set.
  // Calls that arrive while a poll runs share the next one (a flood of revocations costs
  // one store read per poll's duration, not one per revocation).
  void poll();

 private:
  Store& store_;
  RevocationSet& set_;
  const Clock& clock_;
  void poll_locked();

  std::mutex mu_;                   // one poll at a time
  std::atomic<uint64_t> asked_{0};  // calls so far
  uint64_t served_ = 0;             // calls (by count) that a finished poll had seen start
  int64_t since_;
  int64_t next_sweep_ = 0;
};

}  // namespace stagepass
