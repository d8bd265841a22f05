// UsageAggregator: collects "this grant was just used" events from the Web API's hot path so
// that "last used" reaches the store in batches every few seconds (store/write_batches.hpp)
// instead of one write per API call. Keeps only the latest time per grant; memory is bounded
// by the number of distinct grants used between two drains.
// Thread safety: note() and drain() may be called concurrently from any thread (16 shards,
// one mutex each); note() never blocks on I/O.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace stagepass {

class UsageAggregator {
 public:
  using Uses = std::vector<std::pair<std::string, int64_t>>;  // (grant id, last use)

  // Records that `grant_id` was used at `now` (seconds); keeps the maximum per grant.
  void note(const std::string& grant_id, int64_t now);
  // Returns every grant noted since the previous drain with its latest use, and forgets them.
  // The order is unspecified. A note() racing a drain() lands in this drain or the next.
  Uses drain();
  // Puts uses back (e.g. after a failed flush); like note() for each.
  void restore(const Uses& uses);

 private:
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, int64_t> last;
  };
  Shard& shard_for(const std::string& grant_id);
  std::array<Shard, 16> shards_;
};

}  // namespace stagepass
