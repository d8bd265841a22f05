#include "web/secret_reveals.hpp"

namespace stagepass::web {

void SecretReveals::erase(Entries::iterator it) {
  by_order_.erase(it->second.order);
  by_app_.erase({it->first.second, it->first.first});
  entries_.erase(it);
}

void SecretReveals::put(const std::string& session_hash, const std::string& client_id,
                        Reveal reveal, int64_t now) {
  std::lock_guard lk(mu_);
  Key key{session_hash, client_id};
  if (auto it = entries_.find(key); it != entries_.end()) erase(it);
  if (capacity_ == 0 || per_session_ == 0) return;
  // This session's own entries (adjacent in the map): past its share, its oldest goes.
  size_t mine = 0;
  auto oldest_mine = entries_.end();
  for (auto it = entries_.lower_bound({session_hash, std::string()});
       it != entries_.end() && it->first.first == session_hash; ++it) {
    ++mine;
    if (oldest_mine == entries_.end() || it->second.order < oldest_mine->second.order) {
      oldest_mine = it;
    }
  }
  if (mine >= per_session_) erase(oldest_mine);
  // Full: the expired first, then the oldest (put order is expiry order: the TTL is fixed).
  while (entries_.size() >= capacity_ && !by_order_.empty()) {
    erase(entries_.find(by_order_.begin()->second));
  }
  const uint64_t order = next_order_++;
  by_order_.emplace(order, key);
  by_app_.emplace(client_id, session_hash);
  entries_.emplace(std::move(key), Entry{std::move(reveal), now + ttl_, order});
}

std::optional<SecretReveals::Reveal> SecretReveals::take(const std::string& session_hash,
                                                         const std::string& client_id,
                                                         int64_t now) {
  std::lock_guard lk(mu_);
  auto it = entries_.find(Key{session_hash, client_id});
  if (it == entries_.end()) return std::nullopt;
  Entry entry = std::move(it->second);
  erase(it);
  if (entry.expires_at <= now) return std::nullopt;
  return std::move(entry.reveal);
}

void SecretReveals::forget_app(const std::string& client_id) {
  std::lock_guard lk(mu_);
  auto it = by_app_.lower_bound({client_id, std::string()});
  while (it != by_app_.end() && it->first == client_id) {
    const std::string session = it->second;
    ++it;  // erase() removes the element `it` pointed at before
    erase(entries_.find(Key{session, client_id}));
  }
}

size_t SecretReveals::size() {
  std::lock_guard lk(mu_);
  return entries_.size();
}

}  // namespace stagepass::web
