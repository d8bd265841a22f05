// OAuthError: an RFC 6749 §5.2 error as a value: code, description, HTTP status, and an
// internal detail that never reaches the wire. Named constructors mirror the RFC's codes.
#pragma once

#include <string>
#include <string_view>

#include "http/message.hpp"

namespace stagepass::oauth {

// Seconds a client is asked to wait (Retry-After) when the store is unavailable: a database
// failover or restart takes seconds; clients that retry at once would only add load.
inline constexpr int kUnavailableRetryAfter = 2;

struct OAuthError {
  std::string code;         // "invalid_request", "invalid_client", ...
  std::string description;  // safe for the client to see
  int status = 400;
  bool basic_challenge = false;  // 401 with WWW-Authenticate: Basic (client used Basic)

  static OAuthError invalid_request(std::string d) { return {"invalid_request", std::move(d)}; }
  static OAuthError invalid_client(std::string d, bool basic) {
    return {"invalid_client", std::move(d), 401, basic};
  }
  static OAuthError invalid_grant(std::string d) { return {"invalid_grant", std::move(d)}; }
  static OAuthError unauthorized_client(std::string d) {
    return {"unauthorized_client", std::move(d)};
  }
  static OAuthError unsupported_grant_type(std::string d) {
    return {"unsupported_grant_type", std::move(d)};
  }
  static OAuthError invalid_scope(std::string d) { return {"invalid_scope", std::move(d)}; }
  static OAuthError server_error(std::string d) { return {"server_error", std::move(d), 500}; }
  // The store could not be reached (kIo): 503 with Retry-After (to_response), so a client
  // retries instead of taking a definite answer. RFC 6749 names "temporarily_unavailable" for
  // the authorization endpoint (§4.1.2.1); the token, revocation (RFC 7009 §2.2.1: "the client
  // must assume the token still exists and may retry") and introspection endpoints use it too.
  static OAuthError unavailable() {
    return {"temporarily_unavailable", "the service is temporarily unavailable; retry later", 503};
  }

  // The §5.2 JSON response with Cache-Control: no-store, and Retry-After with a 503.
  http::Response to_response() const;
};

// Sets the headers every answer of the form endpoints carries (RFC 6749 §5.1: "Cache-Control:
// no-store", "Pragma: no-cache"), replacing any Cache-Control or Pragma already there.
void add_no_store(http::Response& r);

// RFC 6749 §5.2 (and §4.1.2.1): "Values for the "error_description" parameter MUST NOT
// include characters outside the set %x20-21 / %x23-5B / %x5D-7E." Every other byte
// becomes '?'. Applied to every description that reaches the wire.
std::string safe_description(std::string_view text);
// A piece of the request quoted in a description (a parameter name, a scope), between single
// quotes: at most 40 bytes of it (then "..."), each byte outside [A-Za-z0-9._:/-] replaced by
// '?', so an attacker cannot make the server answer with markup, quotes or spaces of their
// choosing (no "<svg onload=...>" comes back, whoever renders the description).
std::string quote_input(std::string_view text);

}  // namespace stagepass::oauth
