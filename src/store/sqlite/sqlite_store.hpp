// SqliteStore: the embedded default backend. One file, WAL mode, durable commits.
//
// Implements every storage role (store.hpp). Concurrency: ConnectionPool's (one writer
// thread that group-commits the queued writes, a small pool of readers under WAL).
// Thread safety: all methods are safe from any thread; they block, so callers run them on a
// worker pool, never on I/O threads - except find_client_in_memory, which waits for no read
// transaction or connection (one pread and one short lock).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/refresh_family_key.hpp"
#include "store/rotated_grants.hpp"
#include "store/sqlite/change_signal.hpp"
#include "store/sqlite/connection_pool.hpp"
#include "store/store.hpp"

namespace stagepass::sqlite {

class SqliteStore final : public Store {
 public:
  // Writes and the durable commits that carried them (group commit), since start.
  ConnectionPool::GroupStats group_stats() const { return pool_.group_stats(); }
  Status<> raise_writer_priority(int steps) { return pool_.raise_writer_priority(steps); }
  // Opens or creates the file (and its parent directory) and applies migrations.
  // Throws on failure (startup only).
  SqliteStore(const std::string& path, int readers);
  ~SqliteStore() override;

  bool ping() override;

  Status<> create_user(const User& user) override;
  Result<User> find_user(const std::string& id) override;
  Result<User> find_user_by_email(const std::string& email) override;
  Result<PasswordChanged> change_password(const PasswordChange& change) override;

  Status<> create_client(const Client& client) override;
  Result<Client> find_client(const std::string& id) override;
  std::optional<Client> find_client_in_memory(const std::string& id) override;
  Result<std::vector<Client>> list_clients() override;
  Status<> delete_client(const std::string& id, int64_t now) override;
  Result<std::vector<std::pair<std::string, int64_t>>> deleted_clients_since(
      int64_t since) override;
  Status<> prune_deleted_clients(int64_t before) override;  // issue15-fix:revocation-bound
  Status<> set_client_secret_hash(const std::string& id, const std::string& hash) override;
  // issue15:devmode (sqlite_allowlist_store.cpp)
  Status<> set_client_mode(const std::string& id, bool development) override;
  Result<bool> add_to_allowlist(const std::string& client_id, const std::string& user_id,
                                int64_t limit, int64_t now) override;
  Result<AllowlistRemoval> remove_from_allowlist(const std::string& client_id,
                                                 const std::string& user_id, int64_t now) override;
  Result<std::vector<AllowlistEntry>> list_allowlist(const std::string& client_id) override;
  Result<std::vector<Client>> list_owned_clients(const std::string& owner_id) override;
  Status<> create_owned_client(const Client& client, int64_t max_owned) override;
  Status<> update_owned_client(const Client& c) override;
  // issue15:secrets (sqlite_client_secrets.cpp)
  Result<SecretRotation> rotate_client_secret(const std::string& id, const std::string& new_hash,
                                              int64_t now, int64_t grace) override;
  Result<std::vector<LiveSecret>> list_live_secrets(const std::string& id, int64_t now) override;
  Status<> record_secret_usage(const std::vector<ClientSecretUse>& uses, int64_t now) override;
  Result<std::vector<std::pair<std::string, int64_t>>> client_cuts_since(int64_t since) override;
  Status<> set_client_suspension(const std::string& id, int64_t at, const std::string& reason,
                                 int64_t cut_slack = kHardCutMarginSeconds) override;
  Result<std::vector<std::pair<std::string, int64_t>>> suspended_clients_since(
      int64_t since) override;

  Result<Grant> find_active_grant(const std::string& user_id,
                                  const std::string& client_id) override;
  Result<Grant> find_grant(const std::string& id) override;
  Result<Grant> record_consent(const std::string& user_id, const std::string& client_id,
                               const ScopeSet& scope, const std::string& new_id,
                               int64_t now) override;
  Result<bool> revoke_grant(const std::string& id, int64_t now) override;
  Result<std::vector<Revoked>> revoked_grants_since(int64_t since) override;
  Result<std::vector<Grant>> list_user_grants(const std::string& user_id) override;
  Status<> record_grant_usage(const std::vector<std::pair<std::string, int64_t>>& uses) override;
  void order_grant_usage(std::vector<std::pair<std::string, int64_t>>& uses) override;
  Result<bool> revoke_access_token(const std::string& jti, const std::string& client_id,
                                   int64_t expires_at, int64_t now) override;
  Result<std::vector<Revoked>> revoked_tokens_since(int64_t since) override;
  // issue16:revlog (sqlite_revocation_log.cpp)
  Result<RevocationStart> revocation_start(int64_t since, int64_t settled_before) override;
  Result<std::vector<RevocationEntry>> revocations_after(int64_t seq, int limit) override;
  Result<std::vector<RevocationEntry>> revocations_in(const std::vector<int64_t>& seqs) override;
  Result<int64_t> prune_revocations(int64_t before, int limit) override;

  Status<> save_code(const AuthorizationCode& code) override;
  Result<Redeemed> redeem_code(const std::string& hash, const CodePolicy& policy) override;

  Result<RefreshToken> find_refresh_token(const std::string& hash) override;
  Result<Rotation> rotate_refresh_token(const std::string& old_hash,
                                        const RefreshPolicy& policy) override;

  Status<> create_session(const Session& session) override;
  Result<Session> find_session(const std::string& hash, int64_t now) override;
  Status<> touch_session(const std::string& hash, int64_t now) override;
  Status<> delete_session(const std::string& hash) override;
  Result<int64_t> delete_user_sessions(const std::string& user_id,
                                       const std::string& keep_hash) override;

  Status<> record_event(const AuditEvent& event) override;
  Result<std::vector<AuditEvent>> user_events(const std::string& user_id, int64_t before_id,
                                              int limit) override;
  Result<std::vector<AuditEvent>> events_since(int64_t since, int limit) override;

  Result<std::vector<SigningKey>> list_signing_keys() override;
  Status<> save_signing_key(const SigningKey& key) override;
  Status<> add_next_signing_key(const SigningKey& next, int64_t now,
                                int64_t predecessor_retire_at) override;  // sqlite_key_store.cpp
  Result<int64_t> delete_retired_signing_keys(int64_t now) override;

  Status<> save_usage(const std::vector<AppUsageRow>& rows, int64_t now,
                      int64_t keep_seconds) override;
  Result<std::vector<AppUsageRow>> load_usage(int64_t since) override;
  Status<> record_app_warning(const AppWarning& warning) override;
  Result<std::vector<AppUsageRow>> load_app_usage(const std::string& client_id,
                                                  int64_t since) override;
  Result<std::vector<AppWarning>> app_warnings(const std::string& client_id, int limit) override;

  // issue17:prune (sqlite_prune_store.cpp)
  Result<int64_t> prune_codes(int64_t before, int limit) override;
  Result<Swept> sweep_refresh_tokens(int64_t idle_before, int64_t rotated_before,
                                     int limit) override;
  Result<int64_t> cap_rotated_refresh_tokens(int keep, int64_t rotated_before, int limit) override;
  Result<int64_t> prune_sessions(int64_t before, int limit) override;
  Result<int64_t> prune_events(int64_t before, int limit) override;

 private:
  template <class F>
  auto read(F&& f) {
    return pool_.read(std::forward<F>(f));
  }
  template <class F>
  auto write(F&& f) {
    return pool_.write(std::forward<F>(f));
  }
  // The node's own chores, which no request waits for (ConnectionPool's Lane::kBackground).
  template <class F>
  auto write_background(F&& f) {
    return pool_.write(std::forward<F>(f), Lane::kBackground);
  }

  // Clients as last read, valid while clients_version (bumped by triggers on every change,
  // from any process) stays at `version` and the change signal at `signal`. While the signal
  // holds still a lookup is a memory read; the database's version is read again (a read
  // transaction) on a miss and at least every kVersionCheck, which bounds how long a change
  // made without the signal (another program writing the file) can go unseen.
  struct ClientCache {
    static constexpr size_t kMaxEntries = 10000;
    static constexpr std::chrono::milliseconds kVersionCheck{1000};
    std::mutex mu;
    int64_t version = -1;
    uint64_t signal = 0;
    // Moved by every commit of this process that changed a client (the commit hook): a
    // lookup that began before it caches nothing, whatever the signal write did.
    uint64_t generation = 0;
    std::chrono::steady_clock::time_point checked_at{};
    std::unordered_map<std::string, Client> clients;
  };
  // Writer thread only (the commit hooks): clients_version when the group began, and as its
  // writes left it.
  struct GroupVersion {
    int64_t at_begin = -1;
    int64_t at_commit = -1;
  };
  CommitHooks commit_hooks();
  // The cached client when the cache is current for `signal` (read first) at `now`.
  std::optional<Client> cached_client(const std::string& id, uint64_t signal,
                                      std::chrono::steady_clock::time_point now);

  // signal_, clients_version_ and client_cache_ before pool_: the writer thread's hooks use
  // them.
  ChangeSignal signal_;
  GroupVersion clients_version_;
  ClientCache client_cache_;
  ConnectionPool pool_;
  // issue17:family: find_refresh_token and rotate_refresh_token for a family-shaped key (one
  // row per chain, sqlite_refresh_families.cpp).
  Result<RefreshToken> find_in_family(const std::string& hash, const FamilyKey& key);
  // `key`: split_family_key(old_hash).
  Result<Rotation> rotate_in_family(const std::string& old_hash, const FamilyKey& key,
                                    const RefreshPolicy& policy);
  RotatedGrants rotated_grants_;  // issue17:prune: noted by rotate_refresh_token
  std::mutex sweep_mu_;           // issue17:prune: the refresh-token sweep's position
  std::string sweep_after_;
  std::string family_sweep_after_;  // issue17:family: the same over refresh_families
};

}  // namespace stagepass::sqlite
