#include "app/revocation_feed.hpp"

namespace stagepass {

void RevocationFeed::poll() {
  const uint64_t ticket = asked_.fetch_add(1) + 1;
  std::lock_guard lk(mu_);
  // A poll that began after this call was made already ran while we waited for the lock.
  if (served_ >= ticket) return;
  const uint64_t covers_through = asked_.load();
  poll_locked();
  served_ = covers_through;
}

void RevocationFeed::poll_locked() {
  // Timestamps have one-second resolution: re-read the last second (add() is idempotent).
  auto revoked = store_.revoked_grants_since(since_ - 1);
  auto deleted = store_.deleted_clients_since(since_ - 1);
  auto tokens = store_.revoked_tokens_since(since_ - 1);
  if (!revoked || !deleted || !tokens) return;
  for (const auto& r : *tokens) set_.add_token(r.id, r.client_id, r.at);
  for (const auto& r : *revoked) set_.add(r.id, r.client_id, r.at);
  for (const auto& [id, at] : *deleted) set_.add_client(id, at);
  const int64_t now = clock_.now();
  since_ = std::max(since_, now - 2);
  // The expiry sweep walks every entry under the set's exclusive lock: once a second at
  // most, however many revocations wake the feed.
  if (now >= next_sweep_) {
    set_.expire(now);
    next_sweep_ = now + 1;
  }
}

}  // namespace stagepass
