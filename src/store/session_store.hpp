// SessionStore: browser sessions of the pages, by the SHA-256 of their cookie value. A role of
// the accounts store: store.hpp states what every backend promises for every role (threads,
// blocking, durability, atomicity, error codes).
// Used by the pages only (web/).
//
// The store keeps the absolute end (`expires_at`) and the last use (`last_seen_at`); the idle
// timeout is the caller's policy.
//
// Credential generation: a sign-in reads the person (and User::credential_generation), checks
// the password on another thread, then creates the session. A password change or "sign out
// everywhere" may land in between; it moves the generation on, so the slow sign-in that
// verified the old password cannot leave a session behind it:
//  - create_session succeeds only while the person's generation is still `session.generation`
//    (checked in the same write), else kConflict;
//  - find_session refuses a session whose generation is not the person's current one.
// UserStore::change_password ends and creates sessions in its own write, by the same rules.
#pragma once

#include <cstdint>
#include <string>

#include "core/result.hpp"
#include "domain/models.hpp"

namespace stagepass {

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

}  // namespace stagepass
