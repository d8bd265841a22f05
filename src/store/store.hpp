// Storage interfaces of the accounts service, named by role. One backend (SqliteStore, later
// PostgresStore) implements them all; only the composition root and tests choose one.
//
// Contract for every implementation:
//  - Thread safety: every method may be called concurrently from worker threads.
//  - Blocking: methods block on I/O; never call them on an HTTP I/O thread.
//  - Durability: a method that returns success has committed durably.
//  - Errors: Result/Status with Error.code one of kNotFound, kConflict, kIo.
//  - Secrets arrive and are stored as SHA-256 hashes only.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "domain/models.hpp"

namespace stagepass {

class UserStore {
 public:
  virtual ~UserStore() = default;
  virtual Status<> create_user(const User& user) = 0;         // kConflict when the email exists
  virtual Result<User> find_user(const std::string& id) = 0;  // kNotFound
  // Case-insensitive; kNotFound when nobody has it.
  virtual Result<User> find_user_by_email(const std::string& email) = 0;
  // Replaces the password hash and moves the person's credential generation on, in one write:
  // no session can be created any more from a check of the old password (SessionStore).
  // Only if the generation is still `expected` (the one read with the password that was
  // checked): a change racing another change or "sign out everywhere" answers kConflict and
  // writes nothing. Returns the new generation.
  virtual Result<int64_t> set_password_hash(const std::string& user_id, const std::string& hash,
                                            int64_t expected) = 0;
};

class ClientStore {
 public:
  virtual ~ClientStore() = default;
  virtual Status<> create_client(const Client& client) = 0;       // kConflict when the id exists
  virtual Result<Client> find_client(const std::string& id) = 0;  // kNotFound
  virtual Result<std::vector<Client>> list_clients() = 0;
  // Deletes the client and revokes every grant and refresh token it holds.
  virtual Status<> delete_client(const std::string& id, int64_t now) = 0;
  // Clients deleted at or after `since`, with when (feeds every node's revocation set).
  virtual Result<std::vector<std::pair<std::string, int64_t>>> deleted_clients_since(
      int64_t since) = 0;
  virtual Status<> set_client_secret_hash(const std::string& id, const std::string& hash) = 0;
};

// What happened to a refresh token presented for rotation.
enum class RotateOutcome {
  kRotated,       // the old token is spent, the new one is stored
  kNotFound,      // unknown, or its grant is revoked
  kRefused,       // the caller's `successor` function refused it: nothing written
  kReuseGrace,    // its own client's first retry inside the grace window: new token stored,
                  // the earlier (still unused) successor superseded
  kReuseRevoked,  // reuse: the whole grant is revoked
};

// A revocation as every node's RevocationSet learns it: what (a grant id or an access token's
// jti), whose (the client, so a flood of one client's revocations costs only that client) and
// when.
struct Revoked {
  std::string id;
  std::string client_id;
  int64_t at = 0;
};

// The outcome, and the token as the write read it (empty when kNotFound), so the caller can
// name the person and app in an audit event whatever the outcome.
struct Rotation {
  RotateOutcome outcome = RotateOutcome::kNotFound;
  RefreshToken token;
};

// What happened to an authorization code presented for exchange (CodeStore::redeem_code).
enum class RedeemOutcome { kRedeemed, kNotFound, kRefused, kReplayed };
struct Redeemed {
  RedeemOutcome outcome = RedeemOutcome::kNotFound;
  AuthorizationCode code;  // as read; empty when kNotFound
};

class GrantStore {
 public:
  virtual ~GrantStore() = default;
  virtual Result<Grant> find_active_grant(const std::string& user_id,
                                          const std::string& client_id) = 0;
  virtual Result<Grant> find_grant(const std::string& id) = 0;
  // Records consent: widens the active grant of (user, client) by `scope`, or creates one
  // with `new_id`. Returns the grant as stored.
  virtual Result<Grant> record_consent(const std::string& user_id, const std::string& client_id,
                                       const ScopeSet& scope, const std::string& new_id,
                                       int64_t now) = 0;
  // Revokes the grant and every refresh token and unused code of it. Idempotent: true if this
  // call revoked it, false if it was already revoked (or does not exist), so that a caller
  // records one event per revocation, not one per request.
  virtual Result<bool> revoke_grant(const std::string& id, int64_t now) = 0;
  // The person's active grants (the apps they connected), newest first.
  virtual Result<std::vector<Grant>> list_user_grants(const std::string& user_id) = 0;
  // Records when grants were last used, in one transaction (last_used_at only moves forward).
  virtual Status<> record_grant_usage(const std::vector<std::pair<std::string, int64_t>>& uses) = 0;
  // Revokes one access token by its jti until it expires (RFC 7009 on an access token).
  // Idempotent: true if this call revoked it, false if it was revoked already. The row is
  // kept kRevokedTokenRetention seconds past `expires_at`, so any token that a caller accepts
  // up to that long after its expiry is still reported as already revoked.
  virtual Result<bool> revoke_access_token(const std::string& jti, const std::string& client_id,
                                           int64_t expires_at, int64_t now) = 0;
  static constexpr int64_t kRevokedTokenRetention = 3600;
  // Access tokens revoked at or after `since` (id = jti).
  virtual Result<std::vector<Revoked>> revoked_tokens_since(int64_t since) = 0;
  // Grants revoked at or after `since` (id = grant id); feeds every node's revocation set.
  virtual Result<std::vector<Revoked>> revoked_grants_since(int64_t since) = 0;
};

class CodeStore {
 public:
  virtual ~CodeStore() = default;
  virtual Status<> save_code(const AuthorizationCode& code) = 0;
  // Decides on a code being redeemed and its grant, as they are inside the write: nullopt
  // refuses, a record is the refresh token to store with it. Runs on the store's writer: no
  // store calls, nothing slow.
  using Redemption =
      std::function<std::optional<RefreshToken>(const AuthorizationCode& code, const Grant& grant)>;
  // In one write transaction, in this order:
  //  1. unknown code, or a code of a revoked grant: kNotFound, nothing written;
  //  2. `decide` refuses (expiry, client, redirect_uri, PKCE): kRefused, nothing written, the
  //     code stays unused: whoever merely saw a code can neither spend it nor revoke the grant
  //     by presenting it with a wrong verifier;
  //  3. a code already used, presented with everything right: kReplayed, and the code's grant
  //     is revoked (RFC 6749 §4.1.2: the authorization server SHOULD revoke all tokens
  //     previously issued based on that authorization code);
  //  4. otherwise the code is marked used and the refresh token `decide` returned is stored
  //     (kRedeemed).
  virtual Result<Redeemed> redeem_code(const std::string& hash, int64_t now,
                                       const Redemption& decide) = 0;
};

class RefreshTokenStore {
 public:
  virtual ~RefreshTokenStore() = default;
  virtual Result<RefreshToken> find_refresh_token(const std::string& hash) = 0;
  // Decides on the token and its grant, as they are inside the write: nullopt refuses
  // (kRefused), a record is the successor to store. Runs on the store's writer: no store
  // calls, nothing slow.
  using Successor =
      std::function<std::optional<RefreshToken>(const RefreshToken& old, const Grant& grant)>;
  // Atomically reads `old_hash` and its grant and decides, in this order (RFC 9700 §4.14.2;
  // docs/security.md, "Refresh token reuse"):
  //  1. unknown token, or its grant revoked: kNotFound;
  //  2. reuse detection, before any policy check: a token that was already rotated, or that a
  //     grace retry superseded, presented again revokes the whole grant (kReuseRevoked),
  //     unless it is the first retry of a rotated token, by the client it was issued to
  //     (`client_id`), within `grace_seconds` of its rotation, while its successor is still
  //     unused. A spent token presented by another client is reuse, never a mere refusal, so
  //     it cannot keep a leaked chain alive;
  //  3. `successor` (the grant type's policy: client, expiry, scope) refuses: kRefused,
  //     nothing written;
  //  4. a grace retry stores the new token and supersedes the earlier successor
  //     (kReuseGrace); otherwise the token is spent and its successor stored (kRotated).
  // One write transaction, no separate read before it.
  virtual Result<Rotation> rotate_refresh_token(const std::string& old_hash,
                                                const std::string& client_id, int64_t now,
                                                int64_t grace_seconds,
                                                const Successor& successor) = 0;
};

// Browser sessions of the pages, by the SHA-256 of their cookie value. The store keeps the
// absolute end (`expires_at`) and the last use (`last_seen_at`); the idle timeout is the
// caller's policy.
//
// Credential generation: a sign-in reads the person (and User::credential_generation), checks
// the password on another thread, then creates the session. A password change or "sign out
// everywhere" may land in between; it moves the generation on, so the slow sign-in that
// verified the old password cannot leave a session behind it:
//  - create_session succeeds only while the person's generation is still `session.generation`
//    (checked in the same write), else kConflict;
//  - find_session refuses a session whose generation is not the person's current one.
class SessionStore {
 public:
  virtual ~SessionStore() = default;
  // kConflict when the person's credential generation is no longer `session.generation`
  // (or the person is gone), nothing written.
  virtual Status<> create_session(const Session& session) = 0;
  // The session unless unknown, past its absolute end, or of an older credential generation
  // than the person's (kNotFound).
  virtual Result<Session> find_session(const std::string& hash, int64_t now) = 0;
  // Records a use of the session at `now` (last_seen_at only moves forward).
  virtual Status<> touch_session(const std::string& hash, int64_t now) = 0;
  virtual Status<> delete_session(const std::string& hash) = 0;
  // Ends every session of the person except `keep_hash` (empty: all) and moves the person's
  // credential generation on (the kept session with it), so a sign-in whose password check
  // began before this call creates no session after it. Returns how many ended.
  virtual Result<int64_t> delete_user_sessions(const std::string& user_id,
                                               const std::string& keep_hash) = 0;
};

class EventStore {
 public:
  virtual ~EventStore() = default;
  virtual Status<> record_event(const AuditEvent& event) = 0;
  // A person's events, newest first, with id < before_id (0: from the newest).
  virtual Result<std::vector<AuditEvent>> user_events(const std::string& user_id, int64_t before_id,
                                                      int limit) = 0;
  // Everyone's events at or after `since`, oldest first (for operators).
  virtual Result<std::vector<AuditEvent>> events_since(int64_t since, int limit) = 0;
};

class KeyStore {
 public:
  virtual ~KeyStore() = default;
  virtual Result<std::vector<SigningKey>> list_signing_keys() = 0;
  virtual Status<> save_signing_key(const SigningKey& key) = 0;
};

// Everything the accounts service stores, behind one handle.
class Store : public UserStore,
              public ClientStore,
              public GrantStore,
              public CodeStore,
              public RefreshTokenStore,
              public SessionStore,
              public EventStore,
              public KeyStore {
 public:
  // True when the backend answers (for /readyz).
  virtual bool ping() = 0;
};

}  // namespace stagepass
