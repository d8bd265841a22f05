#include "app/revocation_feed.hpp"

namespace stagepass {

void RevocationFeed::poll() {
  std::lock_guard lk(mu_);
  // Timestamps have one-second resolution: re-read the last second (add() is idempotent).
  auto revoked = store_.revoked_grants_since(since_ - 1);
  auto deleted = store_.deleted_clients_since(since_ - 1);
  auto tokens = store_.revoked_tokens_since(since_ - 1);
  if (!revoked || !deleted || !tokens) return;
  for (const auto& [jti, at] : *tokens) set_.add_token(jti, at);
  for (const auto& [id, at] : *revoked) set_.add(id, at);
  for (const auto& [id, at] : *deleted) set_.add_client(id, at);
  since_ = std::max(since_, clock_.now() - 2);
  set_.expire(clock_.now());
}

}  // namespace stagepass
