#include "app/revocation_feed.hpp"

namespace stagepass {

void RevocationFeed::poll() {
  const uint64_t ticket = asked_.fetch_add(1) + 1;
  std::lock_guard lk(mu_);
  // A poll that began after this call was made already ran while we waited for the lock.
  if (served_ >= ticket) return;
  const uint64_t covers_through = asked_.load();
  // Only a poll that read the store serves the calls waiting on it; after a failed read the
  // next caller polls again.
  if (poll_locked()) served_ = covers_through;
}

bool RevocationFeed::poll_locked() {
  // Re-reads the last `lookback_` seconds (add() is idempotent).
  auto revoked = log_.revoked_grants_since(since_);
  auto deleted = log_.deleted_clients_since(since_);
  auto tokens = log_.revoked_tokens_since(since_);
  auto cuts = log_.client_cuts_since(since_);
  auto suspended = log_.suspended_clients_since(since_);
  if (!revoked || !deleted || !tokens || !cuts || !suspended) return false;
  for (const auto& r : *tokens) set_.add_token(r.id, r.client_id, r.at);
  for (const auto& r : *revoked) set_.add(r.id, r.client_id, r.at);
  for (const auto& [id, at] : *deleted) {
    set_.add_client(id, at);
    if (on_deleted_) on_deleted_(id);
  }
  for (const auto& [id, at] : *cuts) set_.add_client_cut(id, at);
  for (const auto& [id, at] : *suspended) set_.add_suspension(id, at);
  const int64_t now = clock_.now();
  since_ = std::max(since_, now - lookback_);
  // The expiry sweep walks every entry under the set's exclusive lock: once a second at
  // most, however many revocations wake the feed.
  if (now >= next_sweep_) {
    set_.expire(now);
    next_sweep_ = now + 1;
  }
  if (now >= next_prune_ && log_.prune_deleted_clients(now - retention_ - lookback_)) {
    next_prune_ = now + 3600;
  }
  return true;
}

}  // namespace stagepass
