// GrantRevoker: the one way a person's access is taken away. Every caller - RFC 7009
// revocation, "Remove access", a password change that disconnects every app, refresh-token
// reuse and authorization-code replay - does the same three things in the same order:
//  1. the store revokes (or already did, inside the caller's own write transaction);
//  2. this node's revocation set learns it (`announce`), so this node's Web API refuses the
//     grant's access tokens on the very next request, before the caller answers;
//  3. the person's security log gets one event: only for a revocation that changed
//     something, so repeating a request cannot flood the log.
// Blocking (store writes, the revocation feed's read): call from worker threads only.
// Lifetime: keeps references to `store` and `clock`; both must outlive it.
#pragma once

#include <functional>
#include <string>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "domain/models.hpp"
#include "store/grant_store.hpp"

namespace stagepass::oauth {

class GrantRevoker {
 public:
  // Reads revocations back from the store into this node's RevocationSet. Blocking.
  using Announce = std::function<void()>;
  // Writes a security event durably. Blocking.
  using Record = std::function<void(AuditEvent)>;
  // Either function may be empty (tests): nothing is announced or recorded.
  GrantRevoker(GrantStore& store, const Clock& clock, Announce announce, Record record);

  // Revokes the grant (its refresh tokens and unused codes with it). True when this call
  // revoked it (announced, `event` recorded); false when it was revoked already (nothing
  // else happens). Errors as GrantStore::revoke_grant.
  Result<bool> revoke_grant(const std::string& grant_id, AuditEvent event) const;
  // Revokes one access token by its jti until `expires_at` (RFC 7009 on an access token), with
  // the same contract as revoke_grant.
  Result<bool> revoke_access_token(const std::string& jti, const std::string& client_id,
                                   int64_t expires_at, AuditEvent event) const;
  // For revocations the store made inside another write (refresh reuse, code replay, a
  // password change): announces them and records `event`.
  void revoked(AuditEvent event) const;

 private:
  GrantStore& store_;
  const Clock& clock_;
  Announce announce_;
  Record record_;
};

}  // namespace stagepass::oauth
