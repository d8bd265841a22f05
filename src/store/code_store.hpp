// CodeStore: authorization codes (RFC 6749 §4.1), by the SHA-256 of their value. A role of the
// accounts store: store.hpp states what every backend promises for every role (threads,
// blocking, durability, atomicity, error codes).
// Used by authorization requests (a code is saved) and the authorization_code grant (it is
// redeemed).
#pragma once

#include <cstdint>
#include <string>

#include "core/result.hpp"
#include "domain/models.hpp"
#include "store/code_redemption.hpp"

namespace stagepass {

class CodeStore {
 public:
  virtual ~CodeStore() = default;
  virtual Status<> save_code(const AuthorizationCode& code) = 0;
  // Redeems a code in one write transaction: reads the code and its grant, decides with
  // decide_redemption() (code_redemption.hpp: the order of the checks, replay detection and
  // what each outcome means), and writes what it decided: nothing (kNotFound, kRefused); the
  // grant revoked (kReplayed); the code marked used and `policy`'s refresh token stored
  // (kRedeemed). No separate read before the write.
  virtual Result<Redeemed> redeem_code(const std::string& hash, const CodePolicy& policy) = 0;
};

}  // namespace stagepass
