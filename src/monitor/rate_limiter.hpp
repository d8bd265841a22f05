// RateLimiter: a rolling-window request counter per key (the Web API keys it by client id),
// Spotify's model: a limit of N requests in any 30-second window. One-second buckets; a
// refused request does not count. Bounded memory: idle keys are pruned.
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
  static constexpr int kWindow = 30;  // seconds

  // Counts one request of `key` at `now` (seconds) against `limit` per window.
  // Returns 0 when allowed, else the seconds to wait before a request would be allowed.
  int64_t acquire(const std::string& key, int64_t limit, int64_t now);

 private:
  struct Window {
    int64_t last = 0;                       // the second of the newest bucket
    std::array<uint32_t, kWindow> count{};  // bucket i holds second s with s % kWindow == i
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Window> keys;
  };
  std::array<Shard, 16> shards_;
};

}  // namespace stagepass
