#include "monitor/login_throttle.hpp"

#include <algorithm>

namespace stagepass {

int64_t LoginThrottle::wait_for(const std::string& key, int limit, int64_t now) {
  auto it = failures_.find(key);
  if (it == failures_.end()) return 0;
  auto& q = it->second;
  while (!q.empty() && q.front() <= now - s_.window_seconds) q.pop_front();
  if (static_cast<int>(q.size()) < limit) return 0;
  // Allowed again when the oldest counted failure leaves the window (at least 1 s from now).
  return std::max<int64_t>(1, q.front() + s_.window_seconds - now);
}

void LoginThrottle::add(const std::string& key, int64_t now) {
  if (failures_.size() >= s_.max_tracked_keys && !failures_.count(key)) {
    std::erase_if(failures_, [&](const auto& kv) {
      return kv.second.empty() || kv.second.back() <= now - s_.window_seconds;
    });
    if (failures_.size() >= s_.max_tracked_keys) failures_.erase(failures_.begin());
  }
  failures_[key].push_back(now);
}

int64_t LoginThrottle::reserve(const std::string& account, const std::string& ip, int64_t now) {
  const std::string a = "a:" + account;
  const std::string i = "i:" + ip;
  std::lock_guard lk(mu_);
  int64_t wait = std::max(wait_for(a, s_.max_failures_per_account, now),
                          wait_for(i, s_.max_failures_per_ip, now));
  if (wait > 0) return wait;
  add(a, now);
  add(i, now);
  return 0;
}

int64_t LoginThrottle::reserve_ip(const std::string& ip, int64_t now) {
  const std::string i = "i:" + ip;
  std::lock_guard lk(mu_);
  if (int64_t wait = wait_for(i, s_.max_failures_per_ip, now); wait > 0) return wait;
  add(i, now);
  return 0;
}

void LoginThrottle::succeeded(const std::string& account, const std::string& ip,
                              int64_t reserved_at) {
  std::lock_guard lk(mu_);
  failures_.erase("a:" + account);
  if (auto it = failures_.find("i:" + ip); it != failures_.end()) {
    auto& q = it->second;
    if (auto at = std::find(q.begin(), q.end(), reserved_at); at != q.end()) q.erase(at);
  }
}

}  // namespace stagepass
