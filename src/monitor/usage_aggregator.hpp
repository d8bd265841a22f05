// UsageAggregator: collects "this grant was just used" events from the Web API's hot path so
// that "last used" reaches the store in batches (store/write_batches.hpp) instead of one
// write per API call. Keeps only the latest time per grant, and hands a grant in use out
// again only once its latest use is `resolution` seconds newer than the use it last handed
// out: the pages show "last used" to the minute, so with a minute the stored time of a grant
// in use is less than a minute behind (the page may show the minute before), and such a grant
// costs the writer one row a minute instead of one every flush. Each grant's writes follow
// its own uses, so the grants in use are written spread over the minute, not all at its turn
// (docs/architecture.md, "Last used", has the measurement). A grant no longer in use is
// forgotten, and its last use handed out then if it was not yet.
// Memory: the grants used within the last `resolution` seconds and a drain interval, kept in
// place from one drain to the next (a call of a grant already there allocates nothing).
// Thread safety: note() may be called from any thread and never blocks on I/O; drain(),
// drain_all() and restore() from any thread too. 64 shards, one mutex each: note() holds
// its shard's for a lookup, a drain each shard's in turn, for a pass over that shard.
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
  explicit UsageAggregator(int64_t resolution) : resolution_(resolution) {}

  // Records that `grant_id` was used at `now` (seconds); keeps the maximum per grant.
  void note(const std::string& grant_id, int64_t now);
  // The uses due at `now`: each grant's latest use, when it is at least `resolution` newer
  // than the one last handed out for it (or none was since the grant was last forgotten),
  // and the latest use not yet handed out of each grant it forgets: those whose latest use is
  // `resolution` or more away from `now` (either way: the wall clock may step). The order is
  // unspecified. A note() racing a drain lands in this drain or the next.
  Uses drain(int64_t now);
  // Every use not handed out yet, due or not, and forgets everything (at shutdown).
  Uses drain_all();
  // Puts uses back (after a failed flush): like note() for each, and each is due again.
  void restore(const Uses& uses);

 private:
  static constexpr int64_t kNone = std::numeric_limits<int64_t>::min();
  struct Entry {
    int64_t latest = kNone;  // the latest use noted
    int64_t handed = kNone;  // the use last handed out; kNone: none since this entry was made
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Entry> grants;
  };
  Shard& shard_for(const std::string& grant_id);
  bool due(const Entry& e) const;
  // drain(now), or with `everything` drain_all(): one pass, so both hand out alike.
  Uses sweep(int64_t now, bool everything);

  const int64_t resolution_;
  std::array<Shard, 64> shards_;
};

}  // namespace stagepass
