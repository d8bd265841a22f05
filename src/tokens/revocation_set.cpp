#include "tokens/revocation_set.hpp"

#include <mutex>

namespace stagepass {

void RevocationSet::add(const std::string& grant_id, int64_t revoked_at) {
  std::unique_lock lk(mu_);
  if (revoked_.size() >= max_entries_ && !revoked_.count(grant_id)) {
    // Bounded: forget the oldest revocation (its tokens are the closest to expiring).
    auto oldest = revoked_.begin();
    for (auto it = revoked_.begin(); it != revoked_.end(); ++it) {
      if (it->second < oldest->second) oldest = it;
    }
    revoked_.erase(oldest);
  }
  revoked_[grant_id] = revoked_at;
}

bool RevocationSet::contains(std::string_view grant_id) const {
  std::shared_lock lk(mu_);
  return revoked_.find(grant_id) != revoked_.end();
}

void RevocationSet::add_client(const std::string& client_id, int64_t deleted_at) {
  std::unique_lock lk(mu_);
  if (clients_.size() < max_entries_) clients_[client_id] = deleted_at;
}

void RevocationSet::add_token(const std::string& jti, int64_t revoked_at) {
  std::unique_lock lk(mu_);
  if (tokens_.size() < max_entries_) tokens_[jti] = revoked_at;
}

bool RevocationSet::covers(std::string_view grant_id, std::string_view client_id,
                           std::string_view jti) const {
  std::shared_lock lk(mu_);
  return (!grant_id.empty() && revoked_.find(grant_id) != revoked_.end()) ||
         (!clients_.empty() && clients_.find(client_id) != clients_.end()) ||
         (!tokens_.empty() && tokens_.find(jti) != tokens_.end());
}

size_t RevocationSet::expire(int64_t now) {
  std::unique_lock lk(mu_);
  std::erase_if(tokens_, [&](const auto& kv) { return kv.second + retention_ < now; });
  std::erase_if(clients_, [&](const auto& kv) { return kv.second + retention_ < now; });
  std::erase_if(revoked_, [&](const auto& kv) { return kv.second + retention_ < now; });
  return revoked_.size();
}

size_t RevocationSet::size() const {
  std::shared_lock lk(mu_);
  return revoked_.size();
}

}  // namespace stagepass
