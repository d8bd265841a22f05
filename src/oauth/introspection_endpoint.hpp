// Token introspection (RFC 7662), POST /api/introspect: for resource servers that prefer to
// ask rather than validate JWTs themselves. Its own step in the form pipeline
// (form_pipeline.hpp: one Authorization header, form body, client authentication, no-store,
// CORS): confidential clients only (§2.1 requires authorization) -> token required -> look it up
// -> {"active":false} for anything revoked, expired, unknown, meant for another audience or
// issued to another client (unless the operator marked the asking client a resource server,
// Client::introspect_any); the token's claims when active, `username` only when the grant
// holds a scope that lets the app read the email.
// Blocking: answer() runs on a worker thread. Lifetime: keeps references to the services and
// the revocation set; both must outlive it.
#pragma once

#include <atomic>
#include <boost/json/object.hpp>
#include <optional>

#include "oauth/form_endpoint.hpp"
#include "oauth/services.hpp"
#include "tokens/revocation_set.hpp"
#include "tokens/verified_token_cache.hpp"

namespace stagepass::oauth {

class IntrospectionEndpoint final : public FormEndpoint {
 public:
  IntrospectionEndpoint(Services& s, const RevocationSet& revoked);
  http::Response answer(FormCall& call, const AuthenticatedClient& client) const override;

 private:
  // The claims of an active token, nullopt for an inactive one; kIo when the store could not
  // say (answered 503 with Retry-After: "inactive" would be a definite answer we do not have).
  using Claims = Result<std::optional<boost::json::object>>;
  Claims access_token_claims(const std::string& value, const Client& asking) const;
  Claims refresh_token_claims(const std::string& value, const Client& asking) const;
  // The person's email when `grant_scope` lets the app read it; empty otherwise.
  std::string username(const std::string& user_id, const ScopeSet& grant_scope) const;

  Services& s_;
  const RevocationSet& revoked_;
  const std::string cache_key_secret_;   // keys the cache's token digests (per process)
  mutable VerifiedTokenCache verified_;  // thread-safe; bounded
  // The keyring the cache was last checked against (compared by address only: a reused
  // address merely skips a purge; find() checks every hit against the keyring in force).
  mutable std::atomic<const Keyring*> seen_keys_{nullptr};
};

}  // namespace stagepass::oauth
