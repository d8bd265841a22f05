// ClientStore: the registered apps (OAuth clients). A role of the accounts store: store.hpp
// states what every backend promises for every role (threads, blocking, durability,
// atomicity, error codes).
// Used by client authentication and authorization requests (oauth/), the pages (app names),
// the composition root (registered web origins, the Web API's rate limits) and the admin CLI.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "domain/models.hpp"

namespace stagepass {

class ClientStore {
 public:
  virtual ~ClientStore() = default;
  virtual Status<> create_client(const Client& client) = 0;       // kConflict when the id exists
  virtual Result<Client> find_client(const std::string& id) = 0;  // kNotFound
  virtual Result<std::vector<Client>> list_clients() = 0;
  // Deletes the client and revokes every grant and refresh token it holds (kNotFound).
  // The deletion feeds every node's RevocationSet (RevocationLog::deleted_clients_since).
  virtual Status<> delete_client(const std::string& id, int64_t now) = 0;
  // Replaces every secret of the client with this one at once, with no grace period and no
  // cut of its tokens (the demo seed's reset). kNotFound.
  virtual Status<> set_client_secret_hash(const std::string& id, const std::string& hash) = 0;

  // ---- issue15:secrets: rotation with overlap, and each live secret's last use.

  // Makes `new_hash` the client's current secret, in one transaction:
  //  - a secret that was already retiring ends now (at most two live secrets);
  //  - grace > 0: the current secret becomes the retiring one, working until now + grace
  //    (exclusive: Client::secrets' expires_at);
  //  - grace == 0 (a hard cut, for a leaked secret): the current secret ends now too, and
  //    the client's access tokens issued at or before now + kHardCutMarginSeconds are refused
  //    on every node (Client::tokens_cut_at, RevocationLog::client_cuts_since). The margin
  //    covers a request that authenticated with the old secret just before this commit and
  //    signs its token just after it (iat has whole seconds); SecretRotation hands out the new
  //    secret only once that second has passed, so no token of the new secret is caught.
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
  // Writes a batch of noted uses (SecretUsage::drain) in one transaction: each secret's last
  // use, and the IPs it was used from (at most kMaxTrackedIpsPerSecret per secret in the day
  // before `now`; older IPs are forgotten). Uses of secrets that no longer exist are ignored.
  virtual Status<> record_secret_usage(const std::vector<ClientSecretUse>& uses, int64_t now) = 0;
};

}  // namespace stagepass
