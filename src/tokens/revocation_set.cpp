#include "tokens/revocation_set.hpp"

#include <algorithm>
#include <mutex>
#include <vector>

namespace stagepass {

void RevocationSet::make_room(Map& m, int64_t now) {
  if (m.size() < max_entries_) return;
  std::erase_if(m, [&](const auto& kv) { return kv.second + retention_ < now; });
  if (m.size() < max_entries_) return;
  // Still full: forget the oldest sixteenth at once (one pass per many inserts, not one per
  // insert), and refuse every token issued up to the newest of them.
  std::vector<int64_t> times;
  times.reserve(m.size());
  for (const auto& kv : m) times.push_back(kv.second);
  const size_t k = std::max<size_t>(1, times.size() / 16) - 1;
  std::nth_element(times.begin(), times.begin() + static_cast<ptrdiff_t>(k), times.end());
  const int64_t cutoff = times[k];
  std::erase_if(m, [&](const auto& kv) { return kv.second <= cutoff; });
  forgotten_through_ = std::max(forgotten_through_, cutoff);
  ++overflows_;
}

void RevocationSet::add(const std::string& grant_id, int64_t revoked_at) {
  std::unique_lock lk(mu_);
  if (!revoked_.count(grant_id)) make_room(revoked_, revoked_at);
  revoked_[grant_id] = revoked_at;
}

bool RevocationSet::contains(std::string_view grant_id) const {
  std::shared_lock lk(mu_);
  return revoked_.find(grant_id) != revoked_.end();
}

void RevocationSet::add_client(const std::string& client_id, int64_t deleted_at) {
  std::unique_lock lk(mu_);
  if (!clients_.count(client_id)) make_room(clients_, deleted_at);
  clients_[client_id] = deleted_at;
}

void RevocationSet::add_token(const std::string& jti, int64_t revoked_at) {
  std::unique_lock lk(mu_);
  if (!tokens_.count(jti)) make_room(tokens_, revoked_at);
  tokens_[jti] = revoked_at;
}

bool RevocationSet::covers(std::string_view grant_id, std::string_view client_id,
                           std::string_view jti, int64_t iat) const {
  std::shared_lock lk(mu_);
  return iat <= forgotten_through_ ||
         (!grant_id.empty() && revoked_.find(grant_id) != revoked_.end()) ||
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

uint64_t RevocationSet::overflows() const {
  std::shared_lock lk(mu_);
  return overflows_;
}

}  // namespace stagepass
