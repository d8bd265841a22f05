// RevocationFeed: keeps this node's RevocationSet in step with the store: the grants revoked
// within the retention window are loaded at start, and each poll() adds those revoked since
// the last poll. Run poll() from Background (every second, and at once after this node
// revokes something), so a revoked grant's access tokens are refused on the next request.
#pragma once

#include <mutex>

#include "core/clock.hpp"
#include "store/store.hpp"
#include "tokens/revocation_set.hpp"

namespace stagepass {

class RevocationFeed {
 public:
  RevocationFeed(Store& store, RevocationSet& set, const Clock& clock, int64_t retention)
      : store_(store), set_(set), clock_(clock), since_(clock.now() - retention) {}
  // Blocking (reads the store). Safe to call from several threads.
  void poll();

 private:
  Store& store_;
  RevocationSet& set_;
  const Clock& clock_;
  std::mutex mu_;
  int64_t since_;
  int64_t next_sweep_ = 0;
};

}  // namespace stagepass
