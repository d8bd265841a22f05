// RateLimiter: what each app may spend on the Web API, in cost units (a profile read costs 1;
// docs/operations.md, "Web API limits and call costs"), per key (the Web API keys it by client
// id). Two budgets, both rolling windows:
//  - the rate limit, Spotify's model: at most `per_window` units in any 30 s, in one-second
//    buckets;
//  - the daily quota: at most `per_day` units in any 24 h, in one-hour buckets (0: none).
// admit() lets a call in when both budgets have a unit left and charges that one unit; the
// rest of the call's cost, known only once it has done its work, is charge()d afterwards, so
// one heavy call may take the key past a budget: it then waits until the window has room again
// (at most 30 s for the rate limit, 24 h for the quota). A refused call costs nothing.
// Bounded memory: one small fixed-size record per key (about 250 bytes), at most
// `shard_keys` (default 100,000) records in each of 16 shards. A record is forgotten only when
// it holds nothing that still counts: its key was idle a full day (both windows are empty), or
// idle 30 s while no quota applied to it (its last admit() had per_day 0). So a key's daily
// count is never dropped while it can still refuse a call: no key can reset its quota by
// making the table overflow. When a shard is full of records that all still count, a key
// without one is counted in the shard's one shared overflow record instead: it is limited
// (rate and quota, together with every other key counted there), never let through
// uncounted. A full shard is scanned for forgettable records at most once a second (once per
// 30 s after a scan that freed nothing), so a flood of new keys costs no scan per call.
// Thread safety: safe from any thread (sharded locks).
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace stagepass {

class RateLimiter {
 public:
  static constexpr int kWindow = 30;    // seconds of the rate-limit window
  static constexpr int kDayHours = 24;  // hours of the quota window
  static constexpr size_t kShardKeys = 100000;

  // `shard_keys`: the records each of the 16 shards may hold (> 0).
  explicit RateLimiter(size_t shard_keys = kShardKeys) : shard_keys_(shard_keys) {}

  struct Limits {
    int64_t per_window = 0;  // units per rolling 30 s (> 0)
    int64_t per_day = 0;     // units per rolling 24 h; 0: no quota
  };
  enum class Refusal { kNone, kRateLimited, kQuotaExceeded };
  struct Admission {
    Refusal refused = Refusal::kNone;
    int64_t retry_after = 0;  // seconds until a call would be admitted; 0 when admitted
    explicit operator bool() const { return refused == Refusal::kNone; }
  };

  // Admits one call of `key` at `now` (Unix seconds) and charges it one unit, or refuses it
  // (charging nothing): kQuotaExceeded when the day's budget is spent (retry_after also
  // covers the rate limit), else kRateLimited when the 30 s budget is.
  Admission admit(const std::string& key, const Limits& limits, int64_t now);
  // Adds `units` (> 0) more to both budgets of `key` at `now`: the cost of an admitted call
  // beyond its first unit. Never refuses.
  void charge(const std::string& key, int64_t units, int64_t now);
  // How many keys have their own record now (the overflow records not counted).
  size_t tracked_keys();

 private:
  // A rolling window of N buckets of `Step` seconds: bucket i holds step t with t % N == i.
  template <int N, int Step>
  struct Window {
    int64_t last = 0;  // the step of the newest bucket
    std::array<uint32_t, N> count{};
    void advance(int64_t now);  // empties the buckets that left the window
    int64_t total() const;
    void add(int64_t now, int64_t units);  // saturates at the bucket's maximum
    // Seconds from `now` until the total falls below `limit` (the window is advanced).
    int64_t wait_below(int64_t limit, int64_t now) const;
  };
  struct Budget {
    Window<kWindow, 1> rate;
    Window<kDayHours, 3600> day;
    int64_t last_seen = 0;
    bool quota = true;  // whether the day's count matters (the last admit() had a quota)
    // Whether nothing in it can refuse a call any more, so it may be forgotten at `now`.
    bool forgettable(int64_t now) const;
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Budget> keys;
    Budget overflow;         // the keys that found the shard full of records that count
    int64_t next_sweep = 0;  // a full shard is not swept again before this
  };
  // The record of `key` (a new one if there is room), else the shard's overflow record;
  // both windows advanced to `now`.
  Budget& budget(Shard& shard, const std::string& key, int64_t now);
  Shard& shard(const std::string& key);

  const size_t shard_keys_;
  std::array<Shard, 16> shards_;
};

}  // namespace stagepass
