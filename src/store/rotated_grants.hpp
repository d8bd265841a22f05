// RotatedGrants: the grants a store rotated a refresh token of since the pruner last capped
// them (PruneStore::cap_rotated_refresh_tokens), so that the cap reads only those grants'
// rotated tokens instead of every grant's. In memory, per store object: bounded by
// kMaxGrants (beyond it a grant is not remembered; its rotated tokens still go at the end of
// the reuse window). Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/result.hpp"

namespace stagepass {

class RotatedGrants {
 public:
  static constexpr size_t kMaxGrants = 100000;

  // A token of `grant_id` was rotated.
  void note(const std::string& grant_id) {
    std::lock_guard lk(mu_);
    if (grants_.size() < kMaxGrants) grants_.insert(grant_id);
  }

  // The capping loop both backends share: for each remembered grant, `delete_beyond(grant,
  // keep, n)` deletes at most n of its rotated tokens beyond the newest `keep` and returns how
  // many went. Stops once `limit` rows went; a grant that may still be over the cap is
  // remembered again. Returns the rows deleted, or the first error (the grant it failed on
  // and those not reached are remembered again). At most `max_grants` grants are visited per
  // call (the rest stay remembered), so one call is bounded even when every grant is new.
  template <class DeleteBeyond>
  Result<int64_t> cap(int keep, int limit, DeleteBeyond&& delete_beyond,
                      size_t max_grants = SIZE_MAX) {
    std::unordered_set<std::string> todo;
    {
      std::lock_guard lk(mu_);
      todo.swap(grants_);
    }
    int64_t done = 0;
    auto it = todo.begin();
    for (size_t visited = 0; it != todo.end() && done < limit && visited < max_grants;
         ++it, ++visited) {
      const int n = limit - static_cast<int>(done);
      auto r = delete_beyond(*it, keep, n);
      if (!r) {
        remember(todo, it);
        return fail(std::move(r.error()));
      }
      done += *r;
      if (*r == n) break;  // maybe more: keep it (and the rest) for the next call
    }
    remember(todo, it);
    return done;
  }

 private:
  void remember(const std::unordered_set<std::string>& todo,
                std::unordered_set<std::string>::const_iterator from) {
    std::lock_guard lk(mu_);
    for (; from != todo.end() && grants_.size() < kMaxGrants; ++from) grants_.insert(*from);
  }

  std::mutex mu_;
  std::unordered_set<std::string> grants_;
};

}  // namespace stagepass
