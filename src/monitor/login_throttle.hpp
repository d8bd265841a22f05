// LoginThrottle: counts password attempts per account and per client IP over a sliding
// window and refuses further attempts past a limit (brute-force protection). In memory,
// bounded.
//
// An attempt is counted when it is *reserved*, before its password is checked, and given back
// only when it succeeds: N guesses sent in parallel therefore check at most the limit's worth
// of passwords (counting after the check let all N pass the check first).
//
// Memory bound (`max_tracked_keys`): a live counter is never dropped to make room, or whoever
// fills the table with fresh keys would reset a victim's counter. When the table is full,
// entries whose window has passed are reclaimed, earliest expiry first (an expiry-ordered
// index, so no scan of the table under the lock); if it is still full, an attempt that needs
// a new key is refused as throttled (fail closed) until one expires.
//
// IPs are counted by ip_key(): an IPv6 address by its /64 (one host usually holds a whole
// /64), an IPv4 or IPv4-mapped address by itself. An IPv6 address also counts towards its
// /48 (network_key()), with `ipv6_network_factor` times the per-IP limit: a single customer
// often holds a whole /48 (65,536 /64s), and without this one machine could take that many
// per-IP allowances, filling the table and locking everyone out of signing in. Filling the
// table then takes that many /48s (or IPv4 addresses): a botnet, which needs network defences.
//
// Thread safety: all methods are safe from any thread; each reservation is atomic.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>

namespace stagepass {

struct ThrottleSettings {
  int max_failures_per_account = 5;
  int max_failures_per_ip = 20;
  int64_t window_seconds = 15 * 60;
  size_t max_tracked_keys = 100000;  // memory bound; expired entries are reclaimed first
  int ipv6_network_factor = 8;       // an IPv6 /48 may fail this many times the per-IP limit
};

class LoginThrottle {
 public:
  explicit LoginThrottle(ThrottleSettings s) : s_(s) {}

  // When the account or the IP has used up its attempts in the window, or the table is full
  // of live counters and this attempt needs a new one: the seconds until an attempt may be
  // counted again, and nothing is counted. Otherwise counts this attempt as a failure of both
  // (presumed until succeeded() says otherwise) and returns 0: go ahead and check it.
  int64_t reserve(const std::string& account, const std::string& ip, int64_t now);
  // Like reserve() for the IP alone, for actions where every attempt counts (sign-up).
  int64_t reserve_ip(const std::string& ip, int64_t now);
  // The attempt reserved at `reserved_at` was right: the IP gets its attempt back and the
  // account's failures are forgotten.
  void succeeded(const std::string& account, const std::string& ip, int64_t reserved_at);
  // The attempt reserved at `reserved_at` could not be checked (the store failed): the
  // account and the IP both get it back; their other failures stay counted.
  void release(const std::string& account, const std::string& ip, int64_t reserved_at);

  // The counter an address is counted under: "2001:db8:1:2::/64" for any IPv6 address of
  // that /64, "192.0.2.1" for 192.0.2.1 and ::ffff:192.0.2.1; anything unparsable as is.
  static std::string ip_key(const std::string& ip);
  // The network an IPv6 address also counts towards: "2001:db8:1::/48"; "" for IPv4,
  // IPv4-mapped and unparsable addresses.
  static std::string network_key(const std::string& ip);

 private:
  using ExpiryIndex = std::multimap<int64_t, std::string>;  // window end → key
  struct Entry {
    std::deque<int64_t> attempts;  // oldest first
    ExpiryIndex::iterator expiry;  // this entry's place in expiry_ (last attempt + window)
  };

  int64_t wait_for(const std::string& key, int limit, int64_t now);
  // Makes room for `needed` new keys by reclaiming expired entries; the seconds until one
  // expires if there is still no room (0: room made).
  int64_t make_room(size_t needed, int64_t now);
  void add(const std::string& key, int64_t now);
  void erase(std::unordered_map<std::string, Entry>::iterator it);
  void give_back(const std::string& key, int64_t reserved_at);
  // Counts one attempt for `keys` (empty ones skipped) if none is over `limits`: 0, or the
  // seconds to wait (lock held).
  int64_t reserve_keys(const std::string* keys, const int* limits, size_t n, int64_t now);

  ThrottleSettings s_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  ExpiryIndex expiry_;
};

}  // namespace stagepass
