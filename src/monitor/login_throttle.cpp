#include "monitor/login_throttle.hpp"

namespace stagepass {

int64_t LoginThrottle::wait_for(const std::string& key, int limit, int64_t now) {
  auto it = failures_.find(key);
  if (it == failures_.end()) return 0;
  auto& q = it->second;
  while (!q.empty() && q.front() <= now - s_.window_seconds) q.pop_front();
  if (static_cast<int>(q.size()) < limit) return 0;
  // Allowed again when the oldest counted failure leaves the window.
  return q.front() + s_.window_seconds - now;
}

int64_t LoginThrottle::retry_after(const std::string& account, const std::string& ip, int64_t now) {
  std::lock_guard lk(mu_);
  return std::max(wait_for("a:" + account, s_.max_failures_per_account, now),
                  wait_for("i:" + ip, s_.max_failures_per_ip, now));
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

void LoginThrottle::record_failure(const std::string& account, const std::string& ip, int64_t now) {
  std::lock_guard lk(mu_);
  add("a:" + account, now);
  add("i:" + ip, now);
}

void LoginThrottle::record_success(const std::string& account) {
  std::lock_guard lk(mu_);
  failures_.erase("a:" + account);
}

}  // namespace stagepass
