// RevocationLog: what was revoked since a time, as every node's RevocationSet learns it (the
// grants GrantStore::revoke_grant, UserStore::change_password and the code and refresh-token
// decisions revoked, the access tokens GrantStore::revoke_access_token revoked, the clients
// ClientStore::delete_client deleted, the clients whose secret ClientStore::rotate_client_secret
// cut hard). Read-only. A role of the accounts store: store.hpp
// states what every backend promises for every role (threads, blocking, durability,
// atomicity, error codes).
// Used by the revocation feed (app/revocation_feed.hpp) only.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/result.hpp"

namespace stagepass {

// A revocation as every node's RevocationSet learns it: what (a grant id or an access token's
// jti), whose (the client, so a flood of one client's revocations costs only that client) and
// when.
struct Revoked {
  std::string id;
  std::string client_id;
  int64_t at = 0;
};

class RevocationLog {
 public:
  virtual ~RevocationLog() = default;
  // Grants revoked at or after `since` (id = grant id), oldest first.
  virtual Result<std::vector<Revoked>> revoked_grants_since(int64_t since) = 0;
  // Access tokens revoked at or after `since` (id = jti).
  virtual Result<std::vector<Revoked>> revoked_tokens_since(int64_t since) = 0;
  // Clients deleted at or after `since`, with when.
  virtual Result<std::vector<std::pair<std::string, int64_t>>> deleted_clients_since(
      int64_t since) = 0;
  // issue15-fix:revocation-bound. Forgets the clients deleted before `before` (the feed passes
  // a time past which no token of theirs is alive): deletions are in every developer's hands,
  // so the table must not grow forever. Blocking (one write).
  virtual Status<> prune_deleted_clients(int64_t before) = 0;
  // issue15:secrets. Hard cuts of client secrets made at or after `since`: (client id, cut
  // time); the client's access tokens issued at or before the cut time are refused.
  virtual Result<std::vector<std::pair<std::string, int64_t>>> client_cuts_since(int64_t since) = 0;
  // issue15:abuse. Clients suspended at or after `since` and still suspended, with when.
  virtual Result<std::vector<std::pair<std::string, int64_t>>> suspended_clients_since(
      int64_t since) = 0;
};

}  // namespace stagepass
