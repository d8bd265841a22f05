// LoginThrottle: counts password attempts per account and per client IP over a sliding
// window and refuses further attempts past a limit (brute-force protection). In memory,
// bounded.
//
// An attempt is counted when it is *reserved*, before its password is checked, and given back
// only when it succeeds: N guesses sent in parallel therefore check at most the limit's worth
// of passwords (counting after the check let all N pass the check first).
//
// Thread safety: all methods are safe from any thread; each reservation is atomic.
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

  // When the account or the IP has used up its attempts in the window: the seconds until one
  // is free again, and nothing is counted. Otherwise counts this attempt as a failure of both
  // (presumed until succeeded() says otherwise) and returns 0: go ahead and check it.
  int64_t reserve(const std::string& account, const std::string& ip, int64_t now);
  // Like reserve() for the IP alone, for actions where every attempt counts (sign-up).
  int64_t reserve_ip(const std::string& ip, int64_t now);
  // The attempt reserved at `reserved_at` was right: the IP gets its attempt back and the
  // account's failures are forgotten.
  void succeeded(const std::string& account, const std::string& ip, int64_t reserved_at);

 private:
  int64_t wait_for(const std::string& key, int limit, int64_t now);
  void add(const std::string& key, int64_t now);

  ThrottleSettings s_;
  std::mutex mu_;
  std::unordered_map<std::string, std::deque<int64_t>> failures_;
};

}  // namespace stagepass
