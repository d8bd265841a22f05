#include "monitor/rate_limiter.hpp"

#include <functional>

namespace stagepass {
namespace {
size_t bucket(int64_t second) {
  return static_cast<size_t>(((second % RateLimiter::kWindow) + RateLimiter::kWindow) %
                             RateLimiter::kWindow);
}
}  // namespace

int64_t RateLimiter::acquire(const std::string& key, int64_t limit, int64_t now) {
  auto& shard = shards_[std::hash<std::string>{}(key) % shards_.size()];
  std::lock_guard lk(shard.mu);
  if (shard.keys.size() > 100000) {
    std::erase_if(shard.keys, [&](const auto& kv) { return kv.second.last + kWindow <= now; });
  }
  Window& w = shard.keys[key];
  // Clear the buckets of seconds that left the window since the last request.
  for (int64_t s = std::max(w.last + 1, now - kWindow + 1); s <= now; ++s) w.count[bucket(s)] = 0;
  if (now - w.last >= kWindow) w.count.fill(0);
  w.last = std::max(w.last, now);

  int64_t total = 0;
  for (auto c : w.count) total += c;
  if (total < limit) {
    ++w.count[bucket(now)];
    return 0;
  }
  // Wait until enough of the oldest seconds leave the window.
  int64_t remaining = total;
  for (int64_t s = now - kWindow + 1; s <= now; ++s) {
    remaining -= w.count[bucket(s)];
    if (remaining < limit) return s + kWindow - now;
  }
  return kWindow;
}

}  // namespace stagepass
