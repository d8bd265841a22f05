#include "music/profile_cache.hpp"

#include <mutex>

namespace stagepass::music {

std::optional<Profile> ProfileCache::get(const std::string& id, Clock::time_point now) const {
  std::shared_lock lk(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second.expires <= now) return std::nullopt;
  return it->second.profile;
}

void ProfileCache::put(const Profile& p, uint64_t version_read, Clock::time_point now) {
  if (capacity_ == 0) return;
  std::unique_lock lk(mu_);
  if (version_.load(std::memory_order_acquire) != version_read) return;
  if (entries_.size() >= capacity_ && !entries_.contains(p.id)) entries_.clear();
  entries_.insert_or_assign(p.id, Entry{p, now + ttl_});
}

void ProfileCache::erase(const std::string& id) {
  std::unique_lock lk(mu_);
  version_.fetch_add(1, std::memory_order_acq_rel);
  entries_.erase(id);
}

size_t ProfileCache::size() const {
  std::shared_lock lk(mu_);
  return entries_.size();
}

}  // namespace stagepass::music
