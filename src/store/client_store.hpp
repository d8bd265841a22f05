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

// issue15:devmode. What ClientStore::remove_from_allowlist did.
struct AllowlistRemoval {
  bool grant_revoked = false;  // the person's active grant of the app was revoked by it
};

class ClientStore {
 public:
  virtual ~ClientStore() = default;
  virtual Status<> create_client(const Client& client) = 0;       // kConflict when the id exists
  virtual Result<Client> find_client(const std::string& id) = 0;  // kNotFound
  virtual Result<std::vector<Client>> list_clients() = 0;
  // Deletes the client and revokes every grant and refresh token it holds (kNotFound).
  // The deletion feeds every node's RevocationSet (RevocationLog::deleted_clients_since).
  virtual Status<> delete_client(const std::string& id, int64_t now) = 0;
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
};

}  // namespace stagepass
