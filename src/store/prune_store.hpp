// PruneStore: deleting what no decision reads any more (issue 17, "Growth without end"):
// spent and expired authorization codes, expired and old rotated refresh tokens, expired
// browser sessions and old audit events. A role of the accounts store: store.hpp states what
// every backend promises for every role (threads, blocking, durability, atomicity, errors).
// Used by the pruner only (app/pruner.hpp), on accounts nodes.
//
// Every method deletes at most `limit` rows per statement (one short transaction: on
// SQLite one job of the group-commit writer, on PostgreSQL one statement found by an index or
// a key range, rows another transaction holds skipped) and returns how many went; the pruner
// calls again while a call deletes `limit`. Idempotent: several nodes may prune one database
// at once; a row another node deleted first is simply not there.
// What each time bound means for the decisions (code replay, refresh-token reuse):
// docs/security.md, "Refresh token reuse", and docs/operations.md, "Pruning".
#pragma once

#include <cstdint>

#include "core/result.hpp"

namespace stagepass {

class PruneStore {
 public:
  virtual ~PruneStore() = default;
  // Authorization codes, used or not, whose expiry is before `before`. A code is only ever
  // decided on before its expiry (code_redemption.hpp: an expired code is refused before
  // replay detection), so the caller passes a time at least a margin before now.
  virtual Result<int64_t> prune_codes(int64_t before, int limit) = 0;
  // One step of a sweep over the refresh tokens in key order, from where this store object's
  // previous step stopped: looks at the next `limit` tokens (and a store that keeps a row per
  // chain, the next `limit` chains too: up to twice `limit` rows, counted as `expired`,
  // deleted when the chain's current token is past `idle_before` and its last rotation before
  // `rotated_before`) and deletes those never rotated
  // (live, or superseded by a grace retry) whose idle end, never later than their absolute
  // end, is before `idle_before` (refused as expired until then), and the rotated ones rotated
  // before `rotated_before` (past the reuse-detection window). Deletes a key range found by
  // the primary key: no index by time, which every rotation would pay for, and the rows of
  // one step share their pages. The last step of a round says so (`wrapped`); the next starts
  // over.
  struct Swept {
    int64_t expired = 0;
    int64_t rotated = 0;
    bool wrapped = false;
  };
  virtual Result<Swept> sweep_refresh_tokens(int64_t idle_before, int64_t rotated_before,
                                             int limit) = 0;
  // The rotated refresh tokens of a grant beyond its newest `keep` (by rotation time), for
  // the grants this store object rotated a token of since the previous call (remembered in
  // memory, store/rotated_grants.hpp: a grant rotated through another node or before a
  // restart is capped there, or by the window). A grant still over the cap when `limit` is
  // reached stays remembered for the next call. Only tokens rotated before `rotated_before`
  // go: a thief who rotates a stolen token many times at once must not push the token the
  // app still holds out of the cap before the app can present it (and so revoke the grant).
  virtual Result<int64_t> cap_rotated_refresh_tokens(int keep, int64_t rotated_before,
                                                     int limit) = 0;
  // Browser sessions whose absolute end is before `before`.
  virtual Result<int64_t> prune_sessions(int64_t before, int limit) = 0;
  // Audit events recorded before `before`, oldest first.
  virtual Result<int64_t> prune_events(int64_t before, int limit) = 0;
};

}  // namespace stagepass
