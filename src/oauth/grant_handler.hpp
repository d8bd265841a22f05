// GrantHandler: one grant type of the token endpoint (fosite's handler pattern). The
// endpoint authenticates the client first; a handler checks the grant itself and issues.
// Handlers are registered by the composition root only when enabled.
// Blocking: handle() runs on a worker thread (the commit pool when waits_for_commit()), or on
// the I/O thread when answers_from_memory() and the client authenticated from memory.
// Thread safety: handle() is const and runs concurrently for many requests.
// Lifetime: an IssuingGrant keeps a reference to the services; they must outlive it (the
// composition root owns both and destroys the endpoint, with its handlers, first).
#pragma once

#include <string_view>

#include "core/text.hpp"
#include "oauth/client_auth.hpp"
#include "oauth/token_issuer.hpp"

namespace stagepass::oauth {

class GrantHandler {
 public:
  virtual ~GrantHandler() = default;
  virtual std::string_view grant_type() const = 0;
  // Whether a public client may use this grant (RFC 6749 §4.4: client credentials is for
  // confidential clients only).
  virtual bool allows_public_clients() const = 0;
  // Whether handle() writes and so waits for a durable commit (group commit).
  virtual bool waits_for_commit() const = 0;
  // issue17:cc-inline. Whether handle(), for a client authenticated from memory
  // (AuthenticatedClient::read_since), neither reads nor writes the store and never blocks:
  // the pipeline then tries the whole request on the I/O thread (FormPipeline). No by default.
  virtual bool answers_from_memory() const { return false; }
  virtual Result<TokenResponse, OAuthError> handle(const Form& form,
                                                   const AuthenticatedClient& client) const = 0;
};

// The common base of the built-in grants: the services and a token issuer.
class IssuingGrant : public GrantHandler {
 protected:
  explicit IssuingGrant(Services& s) : s_(s), issuer_(s) {}
  Services& s_;
  TokenIssuer issuer_;
};

}  // namespace stagepass::oauth
