// LoginThrottle: counts failed sign-ins per account and per client IP over a sliding window
// and says when to refuse further attempts (brute-force protection). In memory, bounded.
// Thread safety: all methods are safe from any thread.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

namespace stagepass {

struct ThrottleSettings {
  int max_failures_per_account = 5;
  int max_failures_per_ip = 20;
  int64_t window_seconds = 15 * 60;
  size_t max_tracked_keys = 100000;  // memory bound; expired entries are pruned first
};

class LoginThrottle {
 public:
  explicit LoginThrottle(ThrottleSettings s) : s_(s) {}

  // Seconds to wait before another attempt, or 0 when an attempt may proceed.
  int64_t retry_after(const std::string& account, const std::string& ip, int64_t now);
  void record_failure(const std::string& account, const std::string& ip, int64_t now);
  void record_success(const std::string& account);

 private:
  int64_t wait_for(const std::string& key, int limit, int64_t now);
  void add(const std::string& key, int64_t now);

  ThrottleSettings s_;
  std::mutex mu_;
  std::unordered_map<std::string, std::deque<int64_t>> failures_;
};

}  // namespace stagepass
