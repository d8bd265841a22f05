// ClientStore: the registered apps (OAuth clients). A role of the accounts store: store.hpp
// states what every backend promises for every role (threads, blocking, durability,
// atomicity, error codes).
// Used by client authentication and authorization requests (oauth/), the pages (app names),
// the composition root (registered web origins, the Web API's rate limits) and the admin CLI.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "domain/models.hpp"

namespace stagepass {

// issue15:devmode. What ClientStore::remove_from_allowlist did.
struct AllowlistRemoval {
  bool grant_revoked = false;  // the person's active grant of the app was revoked by it
};

class ClientStore {
 public:
  virtual ~ClientStore() = default;
  virtual Status<> create_client(const Client& client) = 0;       // kConflict when the id exists
  virtual Result<Client> find_client(const std::string& id) = 0;  // kNotFound
  // issue17:cc-inline. The client exactly as find_client would return it now, answered from
  // the process's memory without blocking (no read, no wait for a connection: an I/O thread
  // may call it), when the store can vouch that it is current; nullopt when only find_client
  // can tell (not in memory, perhaps changed, or a store that keeps no such memory: the
  // default).
  virtual std::optional<Client> find_client_in_memory(const std::string& id) {
    (void)id;
    return std::nullopt;
  }
  virtual Result<std::vector<Client>> list_clients() = 0;
  // Deletes the client and revokes every grant and refresh token it holds (kNotFound).
  // The deletion feeds every node's RevocationSet (RevocationLog::deleted_clients_since).
  virtual Status<> delete_client(const std::string& id, int64_t now) = 0;
  // Replaces every secret of the client with this one at once, with no grace period and no
  // cut of its tokens (the demo seed's reset). kNotFound.
  virtual Status<> set_client_secret_hash(const std::string& id, const std::string& hash) = 0;

  // issue15:devmode. Development mode and the allowlist (oauth/app_access.hpp is the service
  // that the admin CLI and the dashboard call; the token grants read the list inside their
  // own write, CodePolicy::read_allowlist / RefreshPolicy::read_allowlist).
  // Sets Client::development. kNotFound. Tokens already issued keep what they say until
  // they expire; the app's next token follows the new mode.
  virtual Status<> set_client_mode(const std::string& id, bool development) = 0;
  // Puts the person on the app's allowlist, in one write that counts the list first.
  // True when added, false when the person was listed already (nothing written).
  // kNotFound when there is no such app or person; kConflict when the list already holds
  // `limit` people (nothing written).
  virtual Result<bool> add_to_allowlist(const std::string& client_id, const std::string& user_id,
                                        int64_t limit, int64_t now) = 0;
  // Takes the person off the app's allowlist and, in the same write, revokes the person's
  // active grant of the app as GrantStore::revoke_grant does (the revocation feeds every
  // node's RevocationSet). kNotFound when the person was not listed (nothing written).
  virtual Result<AllowlistRemoval> remove_from_allowlist(const std::string& client_id,
                                                         const std::string& user_id,
                                                         int64_t now) = 0;
  // The app's allowlist, oldest entry first, each with the person's email and name as
  // stored now. An unknown app has an empty list.
  virtual Result<std::vector<AllowlistEntry>> list_allowlist(const std::string& client_id) = 0;
  // issue15:dashboard - the developer dashboard's apps (Client::owner_id set).
  // The apps `owner_id` owns, in the order they were created (none for an empty owner: an
  // operator's apps belong to nobody).
  virtual Result<std::vector<Client>> list_owned_clients(const std::string& owner_id) = 0;
  // Creates `client` (owner_id set) unless its owner already owns `max_owned` apps: counted
  // and inserted in one transaction, so parallel creations cannot pass the limit together.
  // kInvalid when the limit is reached, kConflict when the id exists; nothing written then.
  virtual Status<> create_owned_client(const Client& client, int64_t max_owned) = 0;
  // Replaces what an owner may edit - name, description, redirect URIs, allowed scopes, web
  // origins - of client `c.id`, only if `c.owner_id` (non-empty) owns it. kNotFound otherwise.
  // The client's type, secret, owner and limits never change here.
  virtual Status<> update_owned_client(const Client& c) = 0;
  // ---- issue15:secrets: rotation with overlap, and each live secret's last use.

  // Makes `new_hash` the client's current secret, in one transaction:
  //  - a secret that was already retiring ends now (at most two live secrets);
  //  - grace > 0: the current secret becomes the retiring one, working until now + grace
  //    (exclusive: Client::secrets' expires_at);
  //  - grace == 0 (a hard cut, for a leaked secret): the current secret ends now too, and
  //    the client's access tokens issued at or before now + kHardCutMarginSeconds are refused
  //    on every node (Client::tokens_cut_at, RevocationLog::client_cuts_since). A request
  //    that authenticated with the old secret before this commit and signs after it is refused by
  //    the token endpoint, however slow its grant's write (issue15-fix:rotation,
  //    oauth::reconfirm_client: the secret is read again after the write, with the token's iat
  //    fixed before that read; client credentials answered from memory instead get a token the cut
  //    covers, their one read being after its iat was fixed); the margin is kept on top of that. No
  //    token of the new secret is caught: its grant reads the client (cut included) after this
  //    commit, and TokenIssuer gives it iat >= tokens_cut_at + 1.
  // Errors: kNotFound (no such client), kConflict (a public client has no secret), kInvalid
  // (grace < 0 or an empty hash; nothing written).
  static constexpr int64_t kHardCutMarginSeconds = 1;
  struct SecretRotation {
    int64_t previous_expires_at = 0;  // now + grace (now for a hard cut)
    int64_t secret_id = 0;            // the new current secret's id
  };
  virtual Result<SecretRotation> rotate_client_secret(const std::string& id,
                                                      const std::string& new_hash, int64_t now,
                                                      int64_t grace) = 0;

  // A live secret as the developer dashboard shows it: no hash, only when it was made, when
  // it stops (0: the current one), when it was last used and from how many distinct IPs in
  // the day before `now` (counted up to kMaxTrackedIpsPerSecret: that number means "at least").
  // Usage is written in batches, so both figures may lag by one flush (a few seconds).
  static constexpr int64_t kMaxTrackedIpsPerSecret = 1000;
  struct LiveSecret {
    int64_t id = 0;
    int64_t created_at = 0;
    int64_t expires_at = 0;
    int64_t last_used_at = 0;  // 0: never used
    int64_t distinct_ips_last_day = 0;
  };
  // The client's live secrets at `now`, current first. kNotFound (no such client).
  virtual Result<std::vector<LiveSecret>> list_live_secrets(const std::string& id, int64_t now) = 0;
  // Writes noted uses (SecretUsage::drain, in write_in_batches slices) in one transaction:
  // each secret's last use, and the IPs it was used from (at most kMaxTrackedIpsPerSecret per
  // secret in the day before `now`; older IPs are forgotten). Uses of secrets that no longer exist
  // are ignored. A use written twice changes nothing (times only move forward).
  virtual Status<> record_secret_usage(const std::vector<ClientSecretUse>& uses, int64_t now) = 0;
  // issue15:abuse. Suspends the app at `at` with `reason` (at > 0), or lifts the suspension
  // (at == 0; the reason is cleared). kNotFound. A suspension feeds every node's
  // RevocationSet (RevocationLog::suspended_clients_since): the app's access tokens issued
  // up to then are refused; its grants and refresh tokens stay, for when it is lifted.
  // issue15-fix:suspension. A suspension also writes a durable token cut (as a hard cut
  // does: Client::tokens_cut_at, client_cuts_since) through at + `cut_slack` (the clock skew
  // between nodes; never moved back), in the same transaction: lifting the suspension, a
  // restart or a node started later never brings those tokens back. Tokens minted after the
  // suspension is lifted get a later iat (TokenIssuer); a cut is never less than the
  // previous one + 1, so it covers those too (hard cuts alike).
  virtual Status<> set_client_suspension(const std::string& id, int64_t at,
                                         const std::string& reason,
                                         int64_t cut_slack = kHardCutMarginSeconds) = 0;
};

}  // namespace stagepass
