// The records the accounts service keeps. Plain values; the store persists them.
// Opaque secrets (client secrets, refresh tokens, codes, session ids) never appear here: only
// their SHA-256 digests, or storage keys derived from them (opaque_token_key: the value's
// time part, then the digest), in the fields named `hash`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/scope.hpp"

namespace stagepass {

struct User {
  std::string id;  // 22-char base62
  std::string email;
  std::string display_name;
  std::string password_hash;  // Argon2id encoded string
  std::string country = "SE";
  std::string product = "premium";
  int64_t created_at = 0;
  // Moves on whenever the person's credentials change or every session is ended: a session
  // is valid only while it carries the generation it was created with (SessionStore).
  int64_t credential_generation = 0;
};

// issue15:secrets. One stored client secret: its digest (SHA-256, never the value) and when it
// stops working.
struct ClientSecret {
  int64_t id = 0;  // the store's id for it (usage figures and audit coalescing key on it)
  std::string hash;
  int64_t created_at = 0;
  int64_t expires_at = 0;  // 0: the current secret; else it works while now < expires_at
};

struct Client {
  std::string id;  // the client_id
  std::string name;
  bool is_public = false;
  std::string secret_hash;  // SHA-256 of the secret; empty for public clients
  std::vector<std::string> redirect_uris;
  ScopeSet allowed_scopes;
  std::vector<std::string> web_origins;
  int64_t created_at = 0;
  int64_t rate_limit = 0;  // Web API requests per rolling 30 s; 0: the server's default
  // A resource server the operator trusts to introspect any app's tokens (RFC 7662 §4);
  // other clients may introspect only the tokens issued to themselves.
  bool introspect_any = false;
  // issue15:devmode. Development mode: the app serves only the people on its allowlist
  // (AllowlistEntry); others may sign in and consent, but the Web API refuses their tokens
  // (403, reason USER_NOT_ALLOWLISTED). false: extended mode, everyone is served.
  bool development = false;
  // issue15:dashboard. The person who registered the app on the developer dashboard (a
  // User::id); empty for apps an operator created (`stagepass admin client create`), which
  // no dashboard ever shows. Never changes after creation.
  // ({} initializers: brace-initialized Clients that predate these fields stay warning-free.)
  std::string owner_id{};
  std::string description{};  // the owner's words about the app (dashboard); may be empty
  // issue15:secrets. Filled by the store on reads: every stored secret of the client, the
  // current one first (at most two: the current one and the one retiring until its
  // expires_at, ClientStore::rotate_client_secret). `secret_hash` above is the current one's
  // hash, and the secret create_client stores.
  std::vector<ClientSecret> secrets = {};
  // issue15:secrets. The last hard cut (a rotation with no grace), 0 when none: every access
  // token of this client issued at or before it (iat <= tokens_cut_at) is refused on every
  // node, and tokens minted after it carry a later iat (TokenIssuer).
  int64_t tokens_cut_at = 0;
  // issue15:abuse. Suspended by an operator or an abuse detector: 0 when not suspended, else
  // when. A suspended app gets invalid_client at the form endpoints (with `suspended_reason`
  // as the description) and its access tokens issued up to then are refused on every node.
  int64_t suspended_at = 0;
  std::string suspended_reason = {};  // shown to the app's owner and in the error; never a secret
};

// One authorization a person gave one app: the scopes consented to. Every token carries
// its grant id, so revoking the grant kills them all.
struct Grant {
  std::string id;
  std::string user_id;
  std::string client_id;
  ScopeSet scope;
  int64_t created_at = 0;
  std::optional<int64_t> revoked_at;
  std::optional<int64_t> last_used_at;  // aggregated: less than a minute and a flush behind
};

struct AuthorizationCode {
  std::string hash;  // the storage key: code_key(value), never the value
  std::string grant_id;
  std::string client_id;
  std::string user_id;
  std::string redirect_uri;  // as sent in the authorization request
  ScopeSet scope;
  std::string code_challenge;  // S256 challenge, empty when none was sent
  int64_t expires_at = 0;
  std::optional<int64_t> used_at;
};

struct RefreshToken {
  std::string hash;  // the storage key: refresh_token_key(value), never the value
  std::string grant_id;
  std::string client_id;
  std::string user_id;
  ScopeSet scope;
  int64_t created_at = 0;
  int64_t expires_at = 0;       // absolute: grant consent + max lifetime
  int64_t idle_expires_at = 0;  // last use + idle lifetime
  std::optional<int64_t> rotated_at;
  bool revoked = false;
};

struct Session {
  std::string hash;  // token_hash(cookie value): base64url SHA-256, never the value
  std::string user_id;
  int64_t created_at = 0;
  int64_t expires_at = 0;    // absolute end (sign in again after it)
  int64_t last_seen_at = 0;  // last recorded use (coarse: written at most every few minutes)
  // The person's credential generation read together with the password that was checked
  // (User::credential_generation); the session is refused once the person's moves on.
  int64_t generation = 0;
};

// One entry of the audit stream (sign-ins, consent, removals, reuse detection, ...).
struct AuditEvent {
  int64_t id = 0;  // assigned by the store, increasing
  int64_t at = 0;
  std::string type;  // "sign_in", "sign_in_failed", "consent_granted", "app_removed", ...
  std::string user_id;
  std::string client_id;
  std::string ip;
  std::string user_agent;
  std::string detail;  // short, human-readable; never a secret
};

struct SigningKey {
  std::string kid;
  std::string alg;         // "EdDSA"
  std::string public_key;  // raw
  std::string sealed_private_key;
  int64_t created_at = 0;
  // issue15:keys. Its schedule (tokens/key_schedule.hpp): it signs from `signs_from` (published
  // before that as the "next" key); once a newer key signs, it stays published until
  // `retire_at` (0: no newer key signs yet), then it is deleted.
  int64_t signs_from = 0;
  int64_t retire_at = 0;
};

// issue15:devmode. One person on a development-mode app's allowlist (by user id; the owner
// adds people by email, the store resolves it).
struct AllowlistEntry {
  std::string client_id;
  std::string user_id;
  std::string email;  // the person's email as stored now (read with the entry)
  std::string display_name;
  int64_t added_at = 0;
};

// issue15:secrets. One use of a client secret, as noted off the token endpoint's hot path and
// written in batches (ClientStore::record_secret_usage). `ip` empty: the use counts for the
// secret's last use only (its IP was not tracked: the aggregator's pair table was full).
struct ClientSecretUse {
  int64_t secret_id = 0;
  std::string ip;
  int64_t at = 0;
};

// issue15:abuse. One persisted bucket of an app's usage series (monitor::AppUsage): the
// requests, errors and distinct users of one app over [start, start + span), encoded by
// AppUsage (the store keeps it opaque).
struct AppUsageRow {
  std::string client_id;
  int64_t span = 0;   // seconds: 60, 3600 or 86400
  int64_t start = 0;  // unix seconds, a multiple of span
  std::string data;
};

// issue15:abuse. A warning an abuse detector raised about one app, for its dashboard.
struct AppWarning {
  int64_t id = 0;  // assigned by the store, increasing
  std::string client_id;
  int64_t at = 0;
  std::string type;    // the audit event's type, e.g. "abuse_secret_guessing"
  std::string detail;  // short, human-readable; never a secret
};

}  // namespace stagepass
