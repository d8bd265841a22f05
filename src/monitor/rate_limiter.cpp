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

bool RateLimiter::Budget::forgettable(int64_t now) const {
  // A unit charged at second t leaves the day window when hour floor(t / 3600) + 24 begins,
  // at most 24 h after t; the 30 s window is empty 30 s after t.
  if (last_seen + kDayHours * 3600 <= now) return true;
  return !quota && last_seen + kWindow <= now;
}

RateLimiter::Budget& RateLimiter::budget(Shard& shard, const std::string& key, int64_t now) {
  auto it = shard.keys.find(key);
  if (it == shard.keys.end()) {
    if (shard.keys.size() >= shard_keys_ && now >= shard.next_sweep) {
      std::erase_if(shard.keys, [&](const auto& kv) { return kv.second.forgettable(now); });
      // At most one scan a second (records become forgettable by the second), and none for
      // 30 s when this one freed nothing.
      shard.next_sweep = now + (shard.keys.size() >= shard_keys_ ? kWindow : 1);
    }
    // Every record still counts: the key is counted in the shared overflow record rather
    // than another key's daily count being dropped (or this key going uncounted).
    if (shard.keys.size() >= shard_keys_)
      it = shard.keys.end();
    else
      it = shard.keys.try_emplace(key).first;
  }
  Budget& b = it == shard.keys.end() ? shard.overflow : it->second;
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
  b.quota = limits.per_day > 0;
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

size_t RateLimiter::tracked_keys() {
  size_t n = 0;
  for (auto& s : shards_) {
    std::lock_guard lk(s.mu);
    n += s.keys.size();
  }
  return n;
}

}  // namespace stagepass
