#include "oauth/client_auth.hpp"

#include "core/base64url.hpp"
#include "core/text.hpp"
#include "crypto/crypto.hpp"
#include "tokens/access_token.hpp"

namespace stagepass::oauth {
namespace {

struct Presented {
  std::string id;
  std::optional<std::string> secret;
  bool basic = false;
};

Result<Presented, OAuthError> presented_credentials(std::string_view authorization,
                                                    const Form& form) {
  if (!authorization.empty()) {
    if (!authorization.starts_with("Basic ") && !authorization.starts_with("basic ")) {
      return fail(OAuthError::invalid_client("unsupported Authorization scheme", false));
    }
    if (form.has("client_secret")) {
      // RFC 6749 §2.3: the client MUST NOT use more than one authentication method.
      return fail(OAuthError::invalid_request("more than one client authentication method"));
    }
    auto decoded = base64_decode(authorization.substr(6));
    size_t colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos) {
      return fail(OAuthError::invalid_client("malformed Basic credentials", true));
    }
    // RFC 6749 §2.3.1: id and secret are encoded with application/x-www-form-urlencoded.
    auto id = percent_decode(std::string_view(*decoded).substr(0, colon), true);
    auto secret = percent_decode(std::string_view(*decoded).substr(colon + 1), true);
    if (!id || !secret || id->empty()) {
      return fail(OAuthError::invalid_client("malformed Basic credentials", true));
    }
    auto body_id = form.get("client_id");
    if (body_id && *body_id != *id) {
      return fail(OAuthError::invalid_request("client_id does not match the Basic credentials"));
    }
    return Presented{std::move(*id), std::move(*secret), true};
  }
  auto id = form.get("client_id");
  if (!id) return fail(OAuthError::invalid_client("client authentication required", false));
  return Presented{std::move(*id), form.get("client_secret"), false};
}

// The live secret (current, or retiring and not yet expired) whose digest is `digest`, or
// null; it points into `client`. issue15:secrets: the presented secret is hashed once (by the
// caller) and compared in constant time with every stored secret, whatever the earlier
// comparisons gave, so neither the answer nor the time taken says which one it was closer to.
const ClientSecret* live_secret_matching(const Client& client, const std::string& digest,
                                         int64_t now) {
  const ClientSecret* matched = nullptr;
  for (const ClientSecret& secret : client.secrets) {
    const bool equal = crypto::constant_time_equal(digest, secret.hash);
    const bool live = secret.expires_at == 0 || now < secret.expires_at;
    if (equal && live) matched = &secret;
  }
  return matched;
}

// issue15:secrets: counts the use for the secret's last-use figures (in memory, flushed in
// batches), and writes "retiring_secret_used" when a retiring secret was used, at most once
// per (secret, IP) per minute (SecretUsage decides). Never the secret in the event.
void note_use(Services& s, const Client& client, const ClientSecret& secret, std::string_view ip,
              int64_t now) {
  if (!s.secret_usage) return;
  const bool retiring = secret.expires_at != 0;
  if (s.secret_usage->note(secret.id, ip, now, retiring) && retiring && s.audit) {
    s.audit({0, now, "retiring_secret_used", "", client.id, std::string(ip), "",
             "the previous client secret was used; it stops working at " +
                 iso8601_utc(secret.expires_at)});
  }
}

}  // namespace

std::string client_secret_hash(std::string_view secret) { return token_hash(secret); }

namespace {

// What the presented credentials prove about `client`, the client they name: the secret that
// matched (null for a public client, which has none), or invalid_client.
Result<const ClientSecret*, OAuthError> check_presented(const Presented& presented,
                                                        const Client& client, int64_t now) {
  const bool basic = presented.basic;
  if (client.is_public) {
    if (presented.secret) {
      return fail(OAuthError::invalid_client("public clients do not have a secret", basic));
    }
    return static_cast<const ClientSecret*>(nullptr);
  }
  if (!presented.secret) {
    return fail(OAuthError::invalid_client("client authentication failed", basic));
  }
  const ClientSecret* matched =
      live_secret_matching(client, client_secret_hash(*presented.secret), now);
  // One answer whichever secret was wrong, expired or missing.
  if (!matched) return fail(OAuthError::invalid_client("client authentication failed", basic));
  return matched;
}

// The client that proved who it is with `matched` (null: a public client), its use noted.
// `matched` points into `client`: read before the client moves into the answer.
AuthenticatedClient authenticated(Services& s, Client& client, const ClientSecret* matched,
                                  bool basic, std::string_view ip, int64_t now) {
  int64_t secret_id = 0;
  std::string secret_hash;
  if (matched) {
    note_use(s, client, *matched, ip, now);
    secret_id = matched->id;
    secret_hash = matched->hash;
  }
  return AuthenticatedClient{std::move(client), secret_id, std::move(secret_hash), basic};
}

}  // namespace

Result<AuthenticatedClient, OAuthError> authenticate_client(Services& s,
                                                            std::string_view authorization,
                                                            const Form& form, std::string_view ip) {
  auto presented = presented_credentials(authorization, form);
  if (!presented) return fail(presented.error());
  auto client = s.clients.find_client(presented->id);
  if (!client) {
    if (client.error().code != ErrorCode::kNotFound) return fail(OAuthError::unavailable());
    return fail(OAuthError::invalid_client("client authentication failed", presented->basic));
  }
  const int64_t now = s.clock.now();
  auto matched = check_presented(*presented, *client, now);
  if (!matched) return fail(matched.error());
  return authenticated(s, *client, *matched, presented->basic, ip, now);
}

std::optional<Result<AuthenticatedClient, OAuthError>> authenticate_client_in_memory(
    Services& s, std::string_view authorization, const Form& form, std::string_view ip) {
  // Before the read: the read then serves as reconfirm_client's (AuthenticatedClient::read_since).
  const int64_t now = s.clock.now();
  auto presented = presented_credentials(authorization, form);
  if (!presented) return Result<AuthenticatedClient, OAuthError>(fail(presented.error()));
  auto client = s.clients.find_client_in_memory(presented->id);
  if (!client) return std::nullopt;
  auto matched = check_presented(*presented, *client, now);
  if (!matched) return Result<AuthenticatedClient, OAuthError>(fail(matched.error()));
  // A retiring secret's use may write an audit event (note_use): a blocking write.
  if (*matched && (*matched)->expires_at != 0) return std::nullopt;
  AuthenticatedClient a = authenticated(s, *client, *matched, presented->basic, ip, now);
  a.read_since = now;
  return Result<AuthenticatedClient, OAuthError>(std::move(a));
}

std::optional<OAuthError> suspended_refusal(const Client& client, bool basic) {
  if (client.suspended_at == 0) return std::nullopt;
  std::string d = "this app is suspended";
  if (!client.suspended_reason.empty()) d += ": " + client.suspended_reason.substr(0, 200);
  return OAuthError::invalid_client(std::move(d), basic);
}

Status<OAuthError> still_stands(const Client& client, const AuthenticatedClient& authenticated,
                                int64_t now) {
  if (auto refused = suspended_refusal(client, authenticated.basic)) return fail(*refused);
  if (client.is_public) return Ok{};
  for (const ClientSecret& secret : client.secrets) {
    const bool same = secret.id == authenticated.secret_id &&
                      crypto::constant_time_equal(secret.hash, authenticated.secret_hash);
    if (same && (secret.expires_at == 0 || now < secret.expires_at)) return Ok{};
  }
  // Cut (or ended by a second rotation) since the request authenticated with it.
  return fail(OAuthError::invalid_client("client authentication failed", authenticated.basic));
}

Status<OAuthError> reconfirm_client(Services& s, const AuthenticatedClient& authenticated) {
  auto fresh = s.clients.find_client(authenticated.client.id);
  if (!fresh) {
    if (fresh.error().code != ErrorCode::kNotFound) return fail(OAuthError::unavailable());
    return fail(OAuthError::invalid_client("client authentication failed", authenticated.basic));
  }
  return still_stands(*fresh, authenticated, s.clock.now());
}

}  // namespace stagepass::oauth
