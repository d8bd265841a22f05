// UserStore: the people who have accounts, their password hashes and credential generations.
// A role of the accounts store: store.hpp states what every backend promises for every role
// (threads, blocking, durability, atomicity, error codes).
// Used by the pages (sign-in, sign-up, the signed-in visitor, password change) and by
// introspection (the "username" of a token's person).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/result.hpp"
#include "domain/models.hpp"

namespace stagepass {

// A password change, as UserStore::change_password applies it in one write.
struct PasswordChange {
  std::string user_id;
  std::string password_hash;  // the new password's Argon2id hash (never the password)
  // User::credential_generation as read with the password that was checked.
  int64_t expected_generation = 0;
  // The session this browser continues in (hash and times; the store sets its person and
  // generation). nullopt: every session of the person ends and none begins.
  std::optional<Session> session;
  bool revoke_grants = false;  // also revoke every active grant: every app loses access
  int64_t now = 0;             // the revocations' time
};

struct PasswordChanged {
  int64_t generation = 0;      // the person's credential generation from now on
  int64_t sessions_ended = 0;  // sessions of the person that ended (the new one not counted)
  int64_t grants_revoked = 0;  // grants this change revoked (0 unless revoke_grants)
};

class UserStore {
 public:
  virtual ~UserStore() = default;
  virtual Status<> create_user(const User& user) = 0;         // kConflict when the email exists
  virtual Result<User> find_user(const std::string& id) = 0;  // kNotFound
  // Case-insensitive; kNotFound when nobody has it.
  virtual Result<User> find_user_by_email(const std::string& email) = 0;
  // Changes the person's password in ONE write transaction, only while their credential
  // generation is still `expected_generation`:
  //  1. replaces the password hash and moves the generation on, so no session can be created
  //     any more from a check of the old password (SessionStore);
  //  2. ends every session of the person (whoever knew the old password may hold one);
  //  3. creates `session`, of the new generation, when given;
  //  4. when `revoke_grants`, revokes every active grant of the person as
  //     GrantStore::revoke_grant does (their refresh tokens and unused codes with them), at
  //     `now`; the revocations feed every node's RevocationSet (RevocationLog).
  // Errors, with nothing written: kConflict when the generation moved on (a change racing
  // another change or "sign out everywhere": the later one must not win with the old
  // password); kNotFound when there is no such person; kIo, also when `session` cannot be
  // stored (the page then answers 503 and nothing changed).
  virtual Result<PasswordChanged> change_password(const PasswordChange& change) = 0;
};

}  // namespace stagepass
