// The authorization endpoint's protocol half (RFC 6749 §4.1.1-4.1.2, RFC 7636, RFC 9207):
// validating a request, deciding whether consent is needed, and building the redirect that
// carries a code or an error. The web layer owns sessions and pages and calls these.
// Blocking (store): call from a worker thread.
// Lifetime: AuthorizeFlow keeps a reference to the services; they must outlive it.
#pragma once

#include <string>
#include <variant>

#include "core/text.hpp"
#include "oauth/error.hpp"
#include "oauth/services.hpp"

namespace stagepass::oauth {

struct AuthorizeRequest {
  Client client;
  std::string redirect_uri;
  std::string state;  // may be empty
  ScopeSet scope;
  std::string code_challenge;  // S256; empty when none
  bool show_dialog = false;
};

// The request cannot be trusted to redirect anywhere (unknown client, unregistered
// redirect URI): show an error page, never redirect (no open redirector).
struct ErrorPage {
  std::string message;
  int status = 400;  // 503 when the store could not be read (a retry may succeed)
};
// The request is bad but the redirect URI is trusted: send the error there.
struct ErrorRedirect {
  std::string location;
};
using AuthorizeOutcome = std::variant<AuthorizeRequest, ErrorPage, ErrorRedirect>;

class AuthorizeFlow {
 public:
  explicit AuthorizeFlow(Services& s) : s_(s) {}

  AuthorizeOutcome validate(const Form& params) const;
  // True when the person already consented to at least these scopes for this app and the
  // consent page may be skipped. A public client's id is no secret: anyone can start its
  // flow, so remembered consent answers silently only when the code goes to an https
  // redirect URI only that client can receive at (RFC 8252 §8.6, RFC 6749 §10.2); loopback
  // and private-use-scheme redirects always show the page (one click).
  bool consent_covers(const AuthorizeRequest& req, const std::string& user_id) const;
  // Records consent (if needed), issues a code, and returns the redirect location.
  // On a store failure, returns a server_error redirect.
  std::string approve(const AuthorizeRequest& req, const std::string& user_id) const;
  // The person said no: error=access_denied.
  std::string deny(const AuthorizeRequest& req) const;

  // redirect_uri + code/error, state and iss (RFC 9207).
  std::string redirect_with(const std::string& redirect_uri, const std::string& state,
                            std::vector<std::pair<std::string, std::string>> params) const;

 private:
  Services& s_;
};

}  // namespace stagepass::oauth
