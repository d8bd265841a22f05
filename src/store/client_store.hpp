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
  virtual Status<> set_client_secret_hash(const std::string& id, const std::string& hash) = 0;
  // issue15:abuse. Suspends the app at `at` with `reason` (at > 0), or lifts the suspension
  // (at == 0; the reason is cleared). kNotFound. A suspension feeds every node's
  // RevocationSet (RevocationLog::suspended_clients_since): the app's access tokens issued
  // up to then are refused; its grants and refresh tokens stay, for when it is lifted.
  virtual Status<> set_client_suspension(const std::string& id, int64_t at,
                                         const std::string& reason) = 0;
};

}  // namespace stagepass
