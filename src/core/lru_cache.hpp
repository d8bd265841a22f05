// LruCache<V>: immutable values by string key, kept in memory for data that does not change
// while the process runs (the read-only music catalog), least recently used out first.
// Bounded twice: at most `max_entries` entries and at most `max_bytes` bytes, where an
// entry counts the bytes its caller declares for the value, its key twice (list and index)
// and kEntryOverhead for the nodes. A value larger than the whole budget is not kept.
//
// clear() starts a new generation: a reader takes generation() before its database read and
// passes it to put(), and a put() from before a clear() is dropped, so a read racing a
// change (clear) never caches the old value.
// Not core/read_cache.hpp's ReadCache: that one forgets everything when full and expires
// entries by time (for rows other processes change); a catalog larger than the cache must
// keep its hot part, and its entries vary in size, hence eviction by recency and bytes.
// Thread safety: every method is safe from any thread (one mutex; get() reorders the list).
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace stagepass {

template <class V>
class LruCache {
 public:
  static constexpr size_t kEntryOverhead = 128;  // list node, hash node, shared_ptr control

  LruCache(size_t max_entries, size_t max_bytes)
      : max_entries_(max_entries), max_bytes_(max_bytes) {}

  // The value, now the most recently used; null when absent.
  std::shared_ptr<const V> get(const std::string& key) {
    std::lock_guard lk(mu_);
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second);
    return it->second->value;
  }

  uint64_t generation() const {
    std::lock_guard lk(mu_);
    return generation_;
  }

  // Keeps `value` (replacing an entry of the same key), then drops the least recently used
  // entries until both bounds hold. Dropped when `generation_read` is not the current one.
  void put(const std::string& key, std::shared_ptr<const V> value, size_t value_bytes,
           uint64_t generation_read) {
    const size_t cost = value_bytes + 2 * key.size() + kEntryOverhead;
    if (max_entries_ == 0 || cost > max_bytes_) return;
    std::lock_guard lk(mu_);
    if (generation_read != generation_) return;
    if (auto it = index_.find(key); it != index_.end()) {
      bytes_ -= it->second->bytes;
      order_.erase(it->second);
      index_.erase(it);
    }
    order_.push_front(Node{key, std::move(value), cost});
    index_.emplace(key, order_.begin());
    bytes_ += cost;
    while (index_.size() > max_entries_ || bytes_ > max_bytes_) {
      bytes_ -= order_.back().bytes;
      index_.erase(order_.back().key);
      order_.pop_back();
    }
  }

  void clear() {
    std::lock_guard lk(mu_);
    ++generation_;
    index_.clear();
    order_.clear();
    bytes_ = 0;
  }

  size_t size() const {
    std::lock_guard lk(mu_);
    return index_.size();
  }
  size_t bytes() const {
    std::lock_guard lk(mu_);
    return bytes_;
  }

 private:
  struct Node {
    std::string key;
    std::shared_ptr<const V> value;
    size_t bytes;
  };
  const size_t max_entries_;
  const size_t max_bytes_;
  mutable std::mutex mu_;
  std::list<Node> order_;  // most recently used first
  std::unordered_map<std::string, typename std::list<Node>::iterator> index_;
  size_t bytes_ = 0;
  uint64_t generation_ = 0;
};

}  // namespace stagepass
