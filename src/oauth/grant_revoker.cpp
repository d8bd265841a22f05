#include "oauth/grant_revoker.hpp"

namespace stagepass::oauth {

GrantRevoker::GrantRevoker(GrantStore& store, const Clock& clock, Announce announce, Record record)
    : store_(store), clock_(clock), announce_(std::move(announce)), record_(std::move(record)) {}

Result<bool> GrantRevoker::revoke_grant(const std::string& grant_id, AuditEvent event) const {
  auto changed = store_.revoke_grant(grant_id, clock_.now());
  if (changed && *changed) revoked(std::move(event));
  return changed;
}

Result<bool> GrantRevoker::revoke_access_token(const std::string& jti, const std::string& client_id,
                                               int64_t expires_at, AuditEvent event) const {
  auto changed = store_.revoke_access_token(jti, client_id, expires_at, clock_.now());
  if (changed && *changed) revoked(std::move(event));
  return changed;
}

void GrantRevoker::revoked(AuditEvent event) const {
  if (announce_) announce_();
  if (record_) record_(std::move(event));
}

}  // namespace stagepass::oauth
