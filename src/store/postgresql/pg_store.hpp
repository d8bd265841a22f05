// PgStore: the accounts store on PostgreSQL (issue 16), on a bounded pool of libpq
// connections (pg_pool.hpp), with prepared statements; every multi-row change is one
// transaction. Errors are values with the ErrorCodes SqliteStore returns for the same case
// (store.hpp); the store conformance suite (src/store/conformance/) runs the same cases
// against both.
//
// Every role of store.hpp (and ping): STAGEPASS_DATABASE=postgresql://... selects it
// (app/store_factory.cpp).
// The schema already holds every table (pg_schema.cpp).
//
// Concurrency under READ COMMITTED: the decisions that count then write (the app limit, the
// allowlist's size, a secret rotation, a password change) lock the row or key they decide on
// first (SELECT ... FOR UPDATE, pg_advisory_xact_lock), so writers racing on the same person
// or app run one after the other, as they do behind SQLite's single writer.
// Clients are read from the database on every call (no per-node cache): a change made through
// any node is seen at once by every other.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "store/postgresql/pg_pool.hpp"
#include "store/rotated_grants.hpp"
#include "store/store.hpp"

namespace stagepass::postgresql {

class PgStore : public Store {
 public:
  struct Options {
    std::string url;     // a libpq URI; the password belongs in PGPASSFILE, not here
    std::string dbname;  // replaces the URL's database when not empty (tests)
    int pool_size = 8;
    std::chrono::milliseconds acquire_timeout{1000};
    // A hot standby (STAGEPASS_DATABASE_REPLICA), or empty. Only the reads that show history
    // go there: the security log and the audit export (user_events, events_since) and the
    // developer pages' warnings (app_warnings), which a lag of a second changes nothing in.
    // (An app's usage history is read from the primary: it seeds counts that are written
    // back.) Everything that decides (a token, a revocation, a rotation,
    // a session, a client's secrets) and every write read the primary. A replica that cannot
    // answer is skipped for kReplicaBackoff and the primary answers instead.
    std::string replica_url;
  };
  static constexpr std::chrono::seconds kReplicaBackoff{5};
  explicit PgStore(Options options);
  // Applies the schema migrations this database lacks (once, however many nodes start
  // together). Call before any other method; kIo when the server cannot be reached or a
  // migration fails (nothing of it applied).
  Status<> open(int64_t now);

  bool ping() override;
  // Connections of the pool now open (for /metrics).
  int open_connections() { return pool_.open_connections(); }

  // UserStore
  Status<> create_user(const User& user) override;
  Result<User> find_user(const std::string& id) override;
  Result<User> find_user_by_email(const std::string& email) override;
  Result<PasswordChanged> change_password(const PasswordChange& change) override;

  // ClientStore
  Status<> create_client(const Client& client) override;
  Result<Client> find_client(const std::string& id) override;
  Result<std::vector<Client>> list_clients() override;
  Status<> delete_client(const std::string& id, int64_t now) override;
  Status<> set_client_secret_hash(const std::string& id, const std::string& hash) override;
  Status<> set_client_mode(const std::string& id, bool development) override;
  Result<bool> add_to_allowlist(const std::string& client_id, const std::string& user_id,
                                int64_t limit, int64_t now) override;
  Result<AllowlistRemoval> remove_from_allowlist(const std::string& client_id,
                                                 const std::string& user_id, int64_t now) override;
  Result<std::vector<AllowlistEntry>> list_allowlist(const std::string& client_id) override;
  Result<std::vector<Client>> list_owned_clients(const std::string& owner_id) override;
  Status<> create_owned_client(const Client& client, int64_t max_owned) override;
  Status<> update_owned_client(const Client& c) override;
  Result<SecretRotation> rotate_client_secret(const std::string& id, const std::string& new_hash,
                                              int64_t now, int64_t grace) override;
  Result<std::vector<LiveSecret>> list_live_secrets(const std::string& id, int64_t now) override;
  Status<> record_secret_usage(const std::vector<ClientSecretUse>& uses, int64_t now) override;
  Status<> set_client_suspension(const std::string& id, int64_t at, const std::string& reason,
                                 int64_t cut_slack) override;

  // GrantStore
  Result<Grant> find_active_grant(const std::string& user_id,
                                  const std::string& client_id) override;
  Result<Grant> find_grant(const std::string& id) override;
  Result<Grant> record_consent(const std::string& user_id, const std::string& client_id,
                               const ScopeSet& scope, const std::string& new_id,
                               int64_t now) override;
  Result<bool> revoke_grant(const std::string& id, int64_t now) override;
  Result<std::vector<Grant>> list_user_grants(const std::string& user_id) override;
  Status<> record_grant_usage(const std::vector<std::pair<std::string, int64_t>>& uses) override;
  Result<bool> revoke_access_token(const std::string& jti, const std::string& client_id,
                                   int64_t expires_at, int64_t now) override;

  // CodeStore (pg_token_store.cpp: the lock order of the exchange and the rotation)
  Status<> save_code(const AuthorizationCode& code) override;
  Result<Redeemed> redeem_code(const std::string& hash, const CodePolicy& policy) override;

  // RefreshTokenStore
  Result<RefreshToken> find_refresh_token(const std::string& hash) override;
  Result<Rotation> rotate_refresh_token(const std::string& old_hash,
                                        const RefreshPolicy& policy) override;

  // SessionStore
  Status<> create_session(const Session& session) override;
  Result<Session> find_session(const std::string& hash, int64_t now) override;
  Status<> touch_session(const std::string& hash, int64_t now) override;
  Status<> delete_session(const std::string& hash) override;
  Result<int64_t> delete_user_sessions(const std::string& user_id,
                                       const std::string& keep_hash) override;

  // RevocationLog
  Result<std::vector<Revoked>> revoked_grants_since(int64_t since) override;
  Result<std::vector<Revoked>> revoked_tokens_since(int64_t since) override;
  Result<std::vector<std::pair<std::string, int64_t>>> deleted_clients_since(
      int64_t since) override;
  Status<> prune_deleted_clients(int64_t before) override;  // issue15-fix:revocation-bound
  Result<std::vector<std::pair<std::string, int64_t>>> client_cuts_since(int64_t since) override;
  Result<std::vector<std::pair<std::string, int64_t>>> suspended_clients_since(
      int64_t since) override;
  // issue16:revlog (pg_revocation_log.cpp)
  Result<RevocationStart> revocation_start(int64_t since, int64_t settled_before) override;
  Result<std::vector<RevocationEntry>> revocations_after(int64_t seq, int limit) override;
  Result<std::vector<RevocationEntry>> revocations_in(const std::vector<int64_t>& seqs) override;
  Result<int64_t> prune_revocations(int64_t before, int limit) override;

  // EventStore (pg_event_store.cpp)
  Status<> record_event(const AuditEvent& event) override;
  Result<std::vector<AuditEvent>> user_events(const std::string& user_id, int64_t before_id,
                                              int limit) override;
  Result<std::vector<AuditEvent>> events_since(int64_t since, int limit) override;

  // KeyStore (pg_key_store.cpp)
  Result<std::vector<SigningKey>> list_signing_keys() override;
  Status<> save_signing_key(const SigningKey& key) override;
  Status<> add_next_signing_key(const SigningKey& next, int64_t now,
                                int64_t predecessor_retire_at) override;
  Result<int64_t> delete_retired_signing_keys(int64_t now) override;

  // UsageStore (pg_usage_store.cpp)
  Status<> save_usage(const std::vector<AppUsageRow>& rows, int64_t now,
                      int64_t keep_seconds) override;
  Result<std::vector<AppUsageRow>> load_usage(int64_t since) override;
  Result<std::vector<AppUsageRow>> load_app_usage(const std::string& client_id,
                                                  int64_t since) override;
  Status<> record_app_warning(const AppWarning& warning) override;
  Result<std::vector<AppWarning>> app_warnings(const std::string& client_id, int limit) override;

  // PruneStore (pg_prune_store.cpp, issue17:prune)
  Result<int64_t> prune_codes(int64_t before, int limit) override;
  Result<Swept> sweep_refresh_tokens(int64_t idle_before, int64_t rotated_before,
                                     int limit) override;
  Result<int64_t> cap_rotated_refresh_tokens(int keep, int64_t rotated_before, int limit) override;
  Result<int64_t> prune_sessions(int64_t before, int limit) override;
  Result<int64_t> prune_events(int64_t before, int limit) override;

 protected:
  // Runs a read that may be served by the replica: there when one is configured and not
  // backing off, else (or when it fails) on the primary.
  template <class F>
  auto read_history(F&& f) -> decltype(f(std::declval<PgConnection&>()));

  PgPool pool_;
  std::unique_ptr<PgPool> replica_;                // null without a replica
  std::atomic<int64_t> replica_skip_until_ms_{0};  // steady-clock ms: replica backing off
  RotatedGrants rotated_grants_;                   // issue17:prune: noted by rotate_refresh_token
  std::mutex sweep_mu_;  // issue17:prune: the refresh-token sweep's position
  std::string sweep_after_;
};

template <class F>
auto PgStore::read_history(F&& f) -> decltype(f(std::declval<PgConnection&>())) {
  if (replica_) {
    const auto now_ms = [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::steady_clock::now().time_since_epoch())
          .count();
    };
    if (now_ms() >= replica_skip_until_ms_.load(std::memory_order_relaxed)) {
      auto r = replica_->run(f);
      if (r) return r;
      replica_skip_until_ms_.store(now_ms() + std::chrono::milliseconds(kReplicaBackoff).count(),
                                   std::memory_order_relaxed);
    }
  }
  return pool_.run(f);
}

}  // namespace stagepass::postgresql
