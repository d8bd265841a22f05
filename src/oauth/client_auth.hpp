// Client authentication at the token, revocation and introspection endpoints:
// client_secret_basic (RFC 6749 §2.3.1, both parts form-decoded), client_secret_post, or
// "none" (a public client that names itself and proves possession through PKCE).
// Blocking (reads the store): call from a worker thread, except authenticate_client_in_memory.
#pragma once

#include <optional>

#include "core/result.hpp"
#include "core/text.hpp"
#include "domain/models.hpp"
#include "oauth/error.hpp"
#include "oauth/services.hpp"

namespace stagepass::oauth {

// A client that proved who it is at this request (or a public client that named itself).
struct AuthenticatedClient {
  Client client;
  // issue15-fix:rotation. The secret that matched (ClientSecret::id and its digest); 0 and
  // empty for a public client. reconfirm_client() (or, for a client read from memory,
  // still_stands()) checks it is still live before a token is signed. Ids are never reused
  // (issue15-fix:secret-ids: AUTOINCREMENT); the digest is compared too, as a cheap second
  // check.
  int64_t secret_id = 0;
  std::string secret_hash;
  // The client authenticated through the Authorization header: a 401 then carries
  // WWW-Authenticate: Basic (RFC 6749 §5.2).
  bool basic = false;
  // issue17:cc-inline. Set: the client and its secret were read at or after this time
  // (authenticate_client_in_memory fixes it before its read), so that read is the one
  // reconfirm_client would make for a token whose iat is this time: TokenIssuer then signs
  // with iat = read_since, checking `client` as read (still_stands) instead of reading it
  // again. Unset: TokenIssuer reconfirms.
  std::optional<int64_t> read_since = std::nullopt;
};

// A confidential client authenticates with any of its live secrets (issue15:secrets): the
// current one, or the one a rotation is retiring until its expiry (Client::secrets). The
// presented secret is hashed once and compared in constant time with each; a refusal never
// says which one failed. A use is noted in Services::secret_usage (in memory) with `ip`, the
// request's peer; a use of the retiring secret writes "retiring_secret_used" to the audit
// stream, at most once per (secret, IP) per minute. No store write otherwise.
// Errors: invalid_request (two methods at once, a body client_id other than Basic's),
// invalid_client 401 (unknown client, wrong, expired or missing secret, a secret for a public
// client, malformed Basic; with WWW-Authenticate: Basic only when the client used Basic, RFC
// 6749 §5.2), server_error when the store fails.
Result<AuthenticatedClient, OAuthError> authenticate_client(Services& s,
                                                            std::string_view authorization,
                                                            const Form& form,
                                                            std::string_view ip = {});

// issue17:cc-inline. authenticate_client from the client store's memory alone
// (ClientStore::find_client_in_memory), so it never blocks and an I/O thread may call it:
// the same answers, or nullopt when the answer needs the store - the client is not in memory
// (or may have changed), or the secret that matched is a retiring one, whose use may write an
// audit event - and then nothing was noted: the caller calls authenticate_client on a worker
// thread. A client it authenticates carries read_since (the time fixed before the read).
std::optional<Result<AuthenticatedClient, OAuthError>> authenticate_client_in_memory(
    Services& s, std::string_view authorization, const Form& form, std::string_view ip);

// issue15-fix:rotation. Whether `authenticated` still stands now, read again from the store
// (a fresh read: the store's client cache moves with every change to a client or its
// secrets): the client still exists, is not suspended, and the secret it authenticated with
// (secret_id, secret_hash) is still live. A grant calls it after its store write and right before
// it signs, with the token's iat already fixed (TokenIssuer): a hard cut (rotate-secret
// --grace 0) or a suspension that commits after this read has a time at or after that iat,
// so it covers the token; one that committed before it is seen here and the token is never
// signed. This closes the race between authentication and signing however long the grant's
// store write took, without relying on a timing margin.
// Errors: invalid_client 401 ("client authentication failed" when the secret or the client
// is gone, "this app is suspended[: reason]" when suspended), server_error (store failure).
Status<OAuthError> reconfirm_client(Services& s, const AuthenticatedClient& authenticated);
// issue15:abuse: a suspended app authenticates, but is refused with the reason (RFC 6749
// §5.2: invalid_client): only the app itself, having proved who it is, learns that it is
// suspended and why. nullopt when not suspended. `basic`: a 401 with WWW-Authenticate.
std::optional<OAuthError> suspended_refusal(const Client& client, bool basic);

// reconfirm_client's check, of `client` as read at `now`: not suspended, and (a confidential
// client) the secret `authenticated` used still live. Reads nothing.
Status<OAuthError> still_stands(const Client& client, const AuthenticatedClient& authenticated,
                                int64_t now);

// The stored form of a client secret.
std::string client_secret_hash(std::string_view secret);

}  // namespace stagepass::oauth
