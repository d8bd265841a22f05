#include "tokens/revocation_set.hpp"

#include <algorithm>
#include <mutex>
#include <vector>

namespace stagepass {

void RevocationSet::watermark(const std::string& client_id, int64_t revoked_at) {
  watermark_through(client_id, revoked_at > INT64_MAX - slack_ ? INT64_MAX : revoked_at + slack_);
}

void RevocationSet::watermark_through(const std::string& client_id, int64_t through) {
  auto it = watermarks_.find(client_id);
  if (it != watermarks_.end()) {
    it->second = std::max(it->second, through);
    return;
  }
  // issue15-fix:revocation-bound. One entry per client, never one watermark for everyone:
  // deleting, suspending and hard-cutting apps is now in every developer's hands, and a
  // watermark for everyone would refuse every token of every app. The map is bounded by the
  // clients that got a watermark within the retention (expire() drops older ones); past
  // max_entries it grows and counts an overflow for the metrics.
  if (watermarks_.size() >= max_entries_) ++overflows_;
  watermarks_.emplace(client_id, through);
}

void RevocationSet::make_room(Map& m, int64_t now) {
  if (m.size() < max_entries_) return;
  std::erase_if(m, [&](const auto& kv) { return expired(kv.second.at, now); });
  if (m.size() < max_entries_) return;
  ++overflows_;
  // Still full. One pass per many inserts, not one per insert: each branch frees at least a
  // sixteenth of the map.
  std::unordered_map<std::string_view, size_t> per_client;
  for (const auto& kv : m) ++per_client[kv.second.client_id];
  const auto heaviest =
      std::max_element(per_client.begin(), per_client.end(),
                       [](const auto& a, const auto& b) { return a.second < b.second; });
  if (heaviest->second >= std::max<size_t>(1, m.size() / 16)) {
    const std::string client(heaviest->first);
    int64_t newest = INT64_MIN;
    std::erase_if(m, [&](const auto& kv) {
      if (kv.second.client_id != client) return false;
      newest = std::max(newest, kv.second.at);
      return true;
    });
    watermark(client, newest);
    return;
  }
  std::vector<int64_t> times;
  times.reserve(m.size());
  for (const auto& kv : m) times.push_back(kv.second.at);
  const size_t k = std::max<size_t>(1, times.size() / 16) - 1;
  std::nth_element(times.begin(), times.begin() + static_cast<ptrdiff_t>(k), times.end());
  const int64_t cutoff = times[k];
  std::erase_if(m, [&](const auto& kv) {
    if (kv.second.at > cutoff) return false;
    watermark(kv.second.client_id, kv.second.at);
    return true;
  });
}

void RevocationSet::add(const std::string& grant_id, const std::string& client_id,
                        int64_t revoked_at) {
  std::unique_lock lk(mu_);
  if (!revoked_.count(grant_id)) make_room(revoked_, revoked_at);
  revoked_[grant_id] = Entry{revoked_at, client_id};
}

void RevocationSet::add_client(const std::string& client_id, int64_t deleted_at) {
  std::unique_lock lk(mu_);
  if (!clients_.count(client_id) && clients_.size() >= max_entries_) {
    // issue15-fix:revocation-bound. Developers delete their own apps on the dashboard, so a
    // full map may be someone's create/delete loop: forgetting a deletion forward (refusing
    // every token of every app issued before it) would let them log everyone out. A deleted
    // client is never forgotten before its tokens have expired; the map is bounded by the
    // deletions within one retention window (the dashboard limits each person's deletions per
    // hour). Expired ones go first; past max_entries it grows and counts an overflow.
    std::erase_if(clients_, [&](const auto& kv) { return expired(kv.second, deleted_at); });
    if (clients_.size() >= max_entries_) ++overflows_;
  }
  clients_[client_id] = deleted_at;
}

void RevocationSet::add_client_cut(const std::string& client_id, int64_t cut_at) {
  std::unique_lock lk(mu_);
  watermark_through(client_id, cut_at);
}

void RevocationSet::add_suspension(const std::string& client_id, int64_t suspended_at) {
  std::unique_lock lk(mu_);
  watermark(client_id, suspended_at);
}

void RevocationSet::add_token(const std::string& jti, const std::string& client_id,
                              int64_t revoked_at) {
  std::unique_lock lk(mu_);
  if (!tokens_.count(jti)) make_room(tokens_, revoked_at);
  tokens_[jti] = Entry{revoked_at, client_id};
}

bool RevocationSet::covers(std::string_view grant_id, std::string_view client_id,
                           std::string_view jti, int64_t iat) const {
  std::shared_lock lk(mu_);
  if (!watermarks_.empty()) {
    auto w = watermarks_.find(client_id);
    if (w != watermarks_.end() && iat <= w->second) return true;
  }
  return (!grant_id.empty() && revoked_.find(grant_id) != revoked_.end()) ||
         (!clients_.empty() && clients_.find(client_id) != clients_.end()) ||
         (!tokens_.empty() && tokens_.find(jti) != tokens_.end());
}

size_t RevocationSet::expire(int64_t now) {
  std::unique_lock lk(mu_);
  std::erase_if(tokens_, [&](const auto& kv) { return expired(kv.second.at, now); });
  std::erase_if(revoked_, [&](const auto& kv) { return expired(kv.second.at, now); });
  std::erase_if(clients_, [&](const auto& kv) { return expired(kv.second, now); });
  // A watermark (already through revoked_at + slack) outlives every token it refuses once it
  // is older than the retention.
  std::erase_if(watermarks_, [&](const auto& kv) { return kv.second + retention_ < now; });
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
