#include "monitor/rate_limiter.hpp"

#include <algorithm>
#include <functional>
#include <limits>

namespace stagepass {
namespace {
int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
template <int N>
size_t slot(int64_t step) {
  return static_cast<size_t>(((step % N) + N) % N);
}
}  // namespace

template <int N, int Step>
void RateLimiter::Window<N, Step>::advance(int64_t now) {
  const int64_t step = floor_div(now, Step);
  if (step - last >= N) {
    count.fill(0);
  } else {
    for (int64_t s = last + 1; s <= step; ++s) count[slot<N>(s)] = 0;
  }
  last = std::max(last, step);
}

template <int N, int Step>
int64_t RateLimiter::Window<N, Step>::total() const {
  int64_t t = 0;
  for (auto c : count) t += c;
  return t;
}

template <int N, int Step>
void RateLimiter::Window<N, Step>::add(int64_t now, int64_t units) {
  advance(now);
  auto& c = count[slot<N>(floor_div(now, Step))];
  const int64_t room = std::numeric_limits<uint32_t>::max() - int64_t{c};
  c += static_cast<uint32_t>(std::clamp<int64_t>(units, 0, room));
}

template <int N, int Step>
int64_t RateLimiter::Window<N, Step>::wait_below(int64_t limit, int64_t now) const {
  // The units of step s leave the window when step s + N begins.
  int64_t remaining = total();
  for (int64_t s = last - N + 1; s <= last; ++s) {
    remaining -= count[slot<N>(s)];
    if (remaining < limit) return std::max<int64_t>(1, (s + N) * Step - now);
  }
  return std::max<int64_t>(1, (last + N) * Step - now);
}

RateLimiter::Shard& RateLimiter::shard(const std::string& key) {
  return shards_[std::hash<std::string>{}(key) % shards_.size()];
}

RateLimiter::Budget& RateLimiter::budget(Shard& shard, const std::string& key, int64_t now) {
  if (shard.keys.size() > kShardKeys && !shard.keys.contains(key)) {
    std::erase_if(shard.keys,
                  [&](const auto& kv) { return kv.second.last_seen + kDayHours * 3600 <= now; });
    if (shard.keys.size() > kShardKeys) {
      std::erase_if(shard.keys,
                    [&](const auto& kv) { return kv.second.last_seen + kWindow <= now; });
    }
  }
  Budget& b = shard.keys[key];
  b.rate.advance(now);
  b.day.advance(now);
  b.last_seen = std::max(b.last_seen, now);
  return b;
}

RateLimiter::Admission RateLimiter::admit(const std::string& key, const Limits& limits,
                                          int64_t now) {
  auto& s = shard(key);
  std::lock_guard lk(s.mu);
  Budget& b = budget(s, key, now);
  const bool rate_ok = b.rate.total() < limits.per_window;
  const bool day_ok = limits.per_day <= 0 || b.day.total() < limits.per_day;
  if (rate_ok && day_ok) {
    b.rate.add(now, 1);
    b.day.add(now, 1);
    return {};
  }
  const int64_t rate_wait = rate_ok ? 0 : b.rate.wait_below(limits.per_window, now);
  if (!day_ok) {
    return {Refusal::kQuotaExceeded, std::max(rate_wait, b.day.wait_below(limits.per_day, now))};
  }
  return {Refusal::kRateLimited, rate_wait};
}

void RateLimiter::charge(const std::string& key, int64_t units, int64_t now) {
  if (units <= 0) return;
  auto& s = shard(key);
  std::lock_guard lk(s.mu);
  Budget& b = budget(s, key, now);
  b.rate.add(now, units);
  b.day.add(now, units);
}

}  // namespace stagepass
