// ProfileCache: recently read listener profiles in memory, so GET /v1/me can be answered on
// the I/O thread without a database read. Entries live `ttl` seconds (bounding how stale a
// profile changed by another process can be) and the cache holds at most `capacity`
// (it forgets everything when full: simple, and a refill costs one read per user).
// Thread safety: every method is safe from any thread; get() takes a shared lock.
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "music/music_types.hpp"

namespace stagepass::music {

class ProfileCache {
 public:
  using Clock = std::chrono::steady_clock;
  explicit ProfileCache(size_t capacity = 100000,
                        std::chrono::seconds ttl = std::chrono::seconds(60))
      : capacity_(capacity), ttl_(ttl) {}

  std::optional<Profile> get(const std::string& id, Clock::time_point now = Clock::now()) const;
  // Read version() before reading a profile from the database and pass it to put(): a put
  // after an erase() that happened meanwhile is dropped, so a reader racing a writer never
  // caches the old row.
  uint64_t version() const { return version_.load(std::memory_order_acquire); }
  void put(const Profile& p, uint64_t version_read, Clock::time_point now = Clock::now());
  void erase(const std::string& id);
  size_t size() const;

 private:
  struct Entry {
    Profile profile;
    Clock::time_point expires;
  };
  const size_t capacity_;
  const std::chrono::seconds ttl_;
  std::atomic<uint64_t> version_{0};
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace stagepass::music
