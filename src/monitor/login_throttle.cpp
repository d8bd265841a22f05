#include "monitor/login_throttle.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace stagepass {

std::string LoginThrottle::ip_key(const std::string& ip) {
  const std::string address = ip.substr(0, ip.find('%'));  // a link-local zone is no part
  in6_addr v6{};
  if (inet_pton(AF_INET6, address.c_str(), &v6) != 1) return ip;
  char text[INET6_ADDRSTRLEN] = {};
  if (IN6_IS_ADDR_V4MAPPED(&v6)) {
    in_addr v4{};
    std::memcpy(&v4, &v6.s6_addr[12], 4);
    return inet_ntop(AF_INET, &v4, text, sizeof text) ? std::string(text) : ip;
  }
  std::memset(&v6.s6_addr[8], 0, 8);  // the /64
  if (!inet_ntop(AF_INET6, &v6, text, sizeof text)) return ip;
  return std::string(text) + "/64";
}

std::string LoginThrottle::network_key(const std::string& ip) {
  const std::string address = ip.substr(0, ip.find('%'));
  in6_addr v6{};
  if (inet_pton(AF_INET6, address.c_str(), &v6) != 1 || IN6_IS_ADDR_V4MAPPED(&v6)) return "";
  std::memset(&v6.s6_addr[6], 0, 10);  // the /48
  char text[INET6_ADDRSTRLEN] = {};
  if (!inet_ntop(AF_INET6, &v6, text, sizeof text)) return "";
  return "n:" + std::string(text) + "/48";
}

int64_t LoginThrottle::wait_for(const std::string& key, int limit, int64_t now) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return 0;
  auto& q = it->second.attempts;
  while (!q.empty() && q.front() <= now - s_.window_seconds) q.pop_front();
  if (q.empty()) {
    erase(it);
    return 0;
  }
  if (static_cast<int>(q.size()) < limit) return 0;
  // Allowed again when the oldest counted failure leaves the window (at least 1 s from now).
  return std::max<int64_t>(1, q.front() + s_.window_seconds - now);
}

void LoginThrottle::erase(std::unordered_map<std::string, Entry>::iterator it) {
  expiry_.erase(it->second.expiry);
  entries_.erase(it);
}

int64_t LoginThrottle::make_room(size_t needed, int64_t now) {
  while (entries_.size() + needed > s_.max_tracked_keys && !expiry_.empty() &&
         expiry_.begin()->first <= now) {
    erase(entries_.find(expiry_.begin()->second));
  }
  if (entries_.size() + needed <= s_.max_tracked_keys) return 0;
  // Full of live counters: refuse rather than forget one (fail closed).
  return expiry_.empty() ? s_.window_seconds : std::max<int64_t>(1, expiry_.begin()->first - now);
}

void LoginThrottle::add(const std::string& key, int64_t now) {
  auto [it, inserted] = entries_.try_emplace(key);
  Entry& e = it->second;
  int64_t ends = now + s_.window_seconds;
  if (!inserted) {
    // Never earlier than before (a wall clock stepped back must not make a live counter
    // look expired).
    ends = std::max(ends, e.expiry->first);
    expiry_.erase(e.expiry);
  }
  e.attempts.push_back(now);
  e.expiry = expiry_.emplace(ends, key);
}

int64_t LoginThrottle::reserve_keys(const std::string* keys, const int* limits, size_t n,
                                    int64_t now) {
  int64_t wait = 0;
  size_t needed = 0;
  for (size_t k = 0; k < n; ++k) {
    if (keys[k].empty()) continue;
    wait = std::max(wait, wait_for(keys[k], limits[k], now));
    needed += entries_.count(keys[k]) ? 0 : 1;
  }
  if (wait > 0) return wait;
  if (int64_t full = make_room(needed, now); full > 0) return full;
  for (size_t k = 0; k < n; ++k) {
    if (!keys[k].empty()) add(keys[k], now);
  }
  return 0;
}

int64_t LoginThrottle::reserve(const std::string& account, const std::string& ip, int64_t now) {
  const std::string keys[] = {"a:" + account, "i:" + ip_key(ip), network_key(ip)};
  const int limits[] = {s_.max_failures_per_account, s_.max_failures_per_ip,
                        s_.max_failures_per_ip * s_.ipv6_network_factor};
  std::lock_guard lk(mu_);
  return reserve_keys(keys, limits, 3, now);
}

int64_t LoginThrottle::reserve_ip(const std::string& ip, int64_t now) {
  const std::string keys[] = {"i:" + ip_key(ip), network_key(ip)};
  const int limits[] = {s_.max_failures_per_ip, s_.max_failures_per_ip * s_.ipv6_network_factor};
  std::lock_guard lk(mu_);
  return reserve_keys(keys, limits, 2, now);
}

void LoginThrottle::give_back(const std::string& key, int64_t reserved_at) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  auto& q = it->second.attempts;
  if (auto at = std::find(q.begin(), q.end(), reserved_at); at != q.end()) q.erase(at);
  if (q.empty()) erase(it);  // otherwise its expiry stays the later attempt's: harmless
}

void LoginThrottle::succeeded(const std::string& account, const std::string& ip,
                              int64_t reserved_at) {
  std::lock_guard lk(mu_);
  if (auto it = entries_.find("a:" + account); it != entries_.end()) erase(it);
  give_back("i:" + ip_key(ip), reserved_at);
  if (auto n = network_key(ip); !n.empty()) give_back(n, reserved_at);
}

void LoginThrottle::release(const std::string& account, const std::string& ip,
                            int64_t reserved_at) {
  std::lock_guard lk(mu_);
  give_back("a:" + account, reserved_at);
  give_back("i:" + ip_key(ip), reserved_at);
  if (auto n = network_key(ip); !n.empty()) give_back(n, reserved_at);
}

}  // namespace stagepass
