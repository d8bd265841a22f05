// ReadCache<V>: values recently read from a database, kept in memory so a hot path can skip
// the read (and, on the I/O thread, the hop to a worker). Entries live `ttl` (bounding how
// stale a value changed by another process can be); at most `capacity` are kept (the cache
// forgets everything when full: simple, and a refill costs one read per key).
//
// Writers erase() a key after changing it. A reader takes version() before its database
// read and passes it to put(): a put after an erase() that happened meanwhile is dropped,
// so a reader racing a writer never caches the old row.
// Thread safety: every method is safe from any thread; get() takes a shared lock.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>

namespace stagepass {

template <class V>
class ReadCache {
 public:
  using Clock = std::chrono::steady_clock;
  ReadCache(size_t capacity, std::chrono::milliseconds ttl) : capacity_(capacity), ttl_(ttl) {}

  std::optional<V> get(const std::string& key, Clock::time_point now = Clock::now()) const {
    std::shared_lock lk(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end() || it->second.expires <= now) return std::nullopt;
    return it->second.value;
  }
  // Calls f(const V&) on the live entry for `key` under the shared lock (for reading part of
  // a large value without copying all of it); false when there is none. f must not call
  // back into the cache.
  template <class F>
  bool visit(const std::string& key, F&& f, Clock::time_point now = Clock::now()) const {
    std::shared_lock lk(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end() || it->second.expires <= now) return false;
    std::forward<F>(f)(it->second.value);
    return true;
  }
  uint64_t version() const { return version_.load(std::memory_order_acquire); }
  void put(const std::string& key, const V& value, uint64_t version_read,
           Clock::time_point now = Clock::now()) {
    if (capacity_ == 0) return;
    std::unique_lock lk(mu_);
    if (version_.load(std::memory_order_acquire) != version_read) return;
    if (entries_.size() >= capacity_ && !entries_.contains(key)) entries_.clear();
    entries_.insert_or_assign(key, Entry{value, now + ttl_});
  }
  void erase(const std::string& key) {
    std::unique_lock lk(mu_);
    version_.fetch_add(1, std::memory_order_acq_rel);
    entries_.erase(key);
  }
  size_t size() const {
    std::shared_lock lk(mu_);
    return entries_.size();
  }

 private:
  struct Entry {
    V value;
    Clock::time_point expires;
  };
  const size_t capacity_;
  const std::chrono::milliseconds ttl_;
  std::atomic<uint64_t> version_{0};
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace stagepass
