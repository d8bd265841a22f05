// UsageAggregator: collects "this grant was just used" events from the Web API's hot path so
// that "last used" reaches the store in batches every few seconds (store/write_batches.hpp)
// instead of one write per API call. Keeps only the latest time per grant, and hands a grant
// out again only when its latest use is `resolution` seconds newer than what it last handed
// out: a grant in constant use is written once a resolution, not once a flush (the pages
// show "last used" to the minute). Memory is bounded by the number of distinct grants used
// within the last resolution (plus a drain interval).
// Thread safety: note() and the drains may be called concurrently from any thread (16
// shards, one mutex each); note() never blocks on I/O.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace stagepass {

class UsageAggregator {
 public:
  using Uses = std::vector<std::pair<std::string, int64_t>>;  // (grant id, last use)

  // `resolution` in seconds; 0 hands out every grant noted since the previous drain.
  explicit UsageAggregator(int64_t resolution = 0) : resolution_(resolution) {}

  // Records that `grant_id` was used at `now` (seconds); keeps the maximum per grant.
  void note(const std::string& grant_id, int64_t now);
  // The uses due at `now`: each grant not handed out since it was last forgotten, and each
  // whose latest use is at least `resolution` newer than the time it was last handed out.
  // Forgets the grants not used within `resolution` before `now`: a use of theirs still not
  // handed out is older than the truth by less than `resolution`, and is dropped. The order
  // is unspecified. A note() racing a drain lands in this drain or a later one.
  Uses drain(int64_t now);
  // Every use not handed out yet, due or not, and forgets everything (at shutdown).
  Uses drain_all();
  // Puts uses back (e.g. after a failed flush): like note() for each, and each is due again.
  void restore(const Uses& uses);

 private:
  static constexpr int64_t kNone = std::numeric_limits<int64_t>::min();
  struct Entry {
    int64_t latest = kNone;
    int64_t handed = kNone;  // the use last handed out, if any since this entry was made
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Entry> grants;
  };
  Shard& shard_for(const std::string& grant_id);
  const int64_t resolution_;
  std::array<Shard, 16> shards_;
};

}  // namespace stagepass
