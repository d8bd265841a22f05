// RevocationLog: the `revocations` log, every revoking change in the order the store gave it a
// sequence number, as every node's RevocationSet learns it. Each backend appends the entry in
// the SAME transaction as the change (triggers on the source tables, so every path is
// covered): a grant revoked (GrantStore::revoke_grant, UserStore::change_password, the code
// and refresh-token decisions), an access token revoked (GrantStore::revoke_access_token), a
// client deleted (ClientStore::delete_client), a hard cut of a client's secret
// (ClientStore::rotate_client_secret), a client suspended (ClientStore::set_client_suspension).
// Read-only. A role of the accounts store (store.hpp states what every backend promises), also
// implemented by small read-only readers for api-only nodes (postgresql/pg_revocation_log.hpp).
// Used by the revocation feed (app/revocation_feed.hpp) only.
//
// Sequence numbers are strictly increasing in the order they were TAKEN, not committed: on
// PostgreSQL a reader at seq 10 may later see 9 commit (the feed tracks such gaps, seq_gaps.hpp),
// and a rolled-back transaction leaves a hole forever. SQLite commits one writer at a time, so
// its log has no holes.
//
// RevocationHistory: the same facts read by time from the source tables, and the pruning of
// the log and of the deleted-client tombstones (accounts store only).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
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

// issue16:revlog. One row of the `revocations` log. `kind` is one of the kRevoked* names:
//   grant       id = grant id, client_id = its client, at = revoked_at
//   token       id = jti, client_id = its client, at = revoked_at
//   client      id = client_id = the deleted client, at = deleted_at
//   cut         id = client_id = the client, at = cut_at (its tokens with iat <= at refused)
//   suspension  id = client_id = the client, at = suspended_at
struct RevocationEntry {
  int64_t seq = 0;
  std::string kind;
  std::string id;
  std::string client_id;
  int64_t at = 0;
};
inline constexpr std::string_view kRevokedGrant = "grant";
inline constexpr std::string_view kRevokedToken = "token";
inline constexpr std::string_view kRevokedClient = "client";
inline constexpr std::string_view kRevokedCut = "cut";
inline constexpr std::string_view kRevokedSuspension = "suspension";

// Where a node starting now begins reading (RevocationLog::revocation_start).
struct RevocationStart {
  // The sequence number just before the first entry whose time is at or after `since` (the
  // retention window), or `settled` when there is none.
  int64_t first = 0;
  // The highest sequence number of the entries whose time is before `settled_before`, or 0
  // when there is none. A number below it belongs to a transaction that took it before this
  // entry's did, longer ago than any revoking transaction may stay open: it committed (and is
  // in the log) or never will. A number above it may still be in flight.
  int64_t settled = 0;
};

class RevocationLog {
 public:
  virtual ~RevocationLog() = default;
  // Where a node starting now begins reading: it loads (first, settled] and then reads after
  // `settled`, so a number above `settled` that is not there yet is a hole it waits for (a
  // revocation in flight when the node started). Pruning keeps the newest entry before its
  // cut (prune_revocations), so numbers pruned are always at or below `settled`.
  virtual Result<RevocationStart> revocation_start(int64_t since, int64_t settled_before) = 0;
  // At most `limit` entries with a sequence number above `seq`, oldest (lowest seq) first.
  virtual Result<std::vector<RevocationEntry>> revocations_after(int64_t seq, int limit) = 0;
  // The entries among `seqs` (at most 1000 of them) that exist now: a reader's re-read of the
  // holes it saw (seq_gaps.hpp). Any order.
  virtual Result<std::vector<RevocationEntry>> revocations_in(const std::vector<int64_t>& seqs) = 0;
};

class RevocationHistory {
 public:
  virtual ~RevocationHistory() = default;
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
  // issue16:revlog. Deletes at most `limit` of the oldest log entries whose time is before
  // `before` (the feed passes a time past which no token they cover is alive); returns how
  // many went. Bounded work per call: the feed calls again while a call deletes `limit`.
  // The newest entry before `before` always stays, so a node starting later knows where the
  // pruned part of the log ends (revocation_start's `settled`): no pruned number is a hole.
  virtual Result<int64_t> prune_revocations(int64_t before, int limit) = 0;
};

}  // namespace stagepass
