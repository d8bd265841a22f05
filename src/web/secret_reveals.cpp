#include "web/secret_reveals.hpp"

#include <algorithm>

namespace stagepass::web {

void SecretReveals::put(const std::string& session_hash, const std::string& client_id,
                        Reveal reveal, int64_t now) {
  std::lock_guard lk(mu_);
  auto key = std::make_pair(session_hash, client_id);
  entries_.erase(key);
  if (entries_.size() >= capacity_) {
    std::erase_if(entries_, [&](const auto& kv) { return kv.second.expires_at <= now; });
  }
  while (!entries_.empty() && entries_.size() >= capacity_) {
    auto oldest = std::min_element(
        entries_.begin(), entries_.end(),
        [](const auto& a, const auto& b) { return a.second.order < b.second.order; });
    entries_.erase(oldest);
  }
  if (capacity_ == 0) return;
  entries_.emplace(std::move(key), Entry{std::move(reveal), now + ttl_, next_order_++});
}

std::optional<SecretReveals::Reveal> SecretReveals::take(const std::string& session_hash,
                                                         const std::string& client_id,
                                                         int64_t now) {
  std::lock_guard lk(mu_);
  auto it = entries_.find(std::make_pair(session_hash, client_id));
  if (it == entries_.end()) return std::nullopt;
  Entry entry = std::move(it->second);
  entries_.erase(it);
  if (entry.expires_at <= now) return std::nullopt;
  return std::move(entry.reveal);
}

size_t SecretReveals::size() {
  std::lock_guard lk(mu_);
  return entries_.size();
}

}  // namespace stagepass::web
