// GrantStore: consent (a person's grant to an app) and its revocation. A role of the accounts
// store: store.hpp states what every backend promises for every role (threads, blocking,
// durability, atomicity, error codes).
// Used by authorization requests (consent), introspection, GrantRevoker (every revocation),
// the pages (Account → Apps) and the composition root (grant usage from the Web API).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "domain/models.hpp"

namespace stagepass {

class GrantStore {
 public:
  virtual ~GrantStore() = default;
  virtual Result<Grant> find_active_grant(const std::string& user_id,
                                          const std::string& client_id) = 0;  // kNotFound
  virtual Result<Grant> find_grant(const std::string& id) = 0;                // kNotFound
  // Records consent: widens the active grant of (user, client) by `scope`, or creates one
  // with `new_id`. Returns the grant as stored.
  virtual Result<Grant> record_consent(const std::string& user_id, const std::string& client_id,
                                       const ScopeSet& scope, const std::string& new_id,
                                       int64_t now) = 0;
  // Revokes the grant and every refresh token and unused code of it. Idempotent: true if this
  // call revoked it, false if it was already revoked (or does not exist), so that a caller
  // records one event per revocation, not one per request. The revocation feeds every node's
  // RevocationSet (RevocationLog::revoked_grants_since).
  virtual Result<bool> revoke_grant(const std::string& id, int64_t now) = 0;
  // The person's active grants (the apps they connected), newest first.
  virtual Result<std::vector<Grant>> list_user_grants(const std::string& user_id) = 0;
  // Records when grants were last used, in one transaction (last_used_at only moves forward;
  // a use written twice changes nothing). Callers hand large sets in write_in_batches slices.
  virtual Status<> record_grant_usage(const std::vector<std::pair<std::string, int64_t>>& uses) = 0;
  // Puts `uses` in the order in which record_grant_usage writes them cheapest when they are
  // handed to it in slices. Any order is correct (the rows do not depend on each other); the
  // default keeps the one given.
  virtual void order_grant_usage(std::vector<std::pair<std::string, int64_t>>& /*uses*/) {}
  // Revokes one access token by its jti until it expires (RFC 7009 on an access token).
  // Idempotent: true if this call revoked it, false if it was revoked already. The row is
  // kept kRevokedTokenRetention seconds past `expires_at`, so any token that a caller accepts
  // up to that long after its expiry is still reported as already revoked.
  virtual Result<bool> revoke_access_token(const std::string& jti, const std::string& client_id,
                                           int64_t expires_at, int64_t now) = 0;
  static constexpr int64_t kRevokedTokenRetention = 3600;
};

}  // namespace stagepass
