// CodeStore: authorization codes (RFC 6749 §4.1), by the SHA-256 of their value. A role of the
// accounts store: store.hpp states what every backend promises for every role (threads,
// blocking, durability, atomicity, error codes).
// Used by authorization requests (a code is saved) and the authorization_code grant (it is
// redeemed).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/result.hpp"
#include "domain/models.hpp"

namespace stagepass {

// What happened to an authorization code presented for exchange (CodeStore::redeem_code).
enum class RedeemOutcome { kRedeemed, kNotFound, kRefused, kReplayed };
struct Redeemed {
  RedeemOutcome outcome = RedeemOutcome::kNotFound;
  AuthorizationCode code;  // as read; empty when kNotFound
};

class CodeStore {
 public:
  virtual ~CodeStore() = default;
  virtual Status<> save_code(const AuthorizationCode& code) = 0;
  // Decides on a code being redeemed and its grant, as they are inside the write: nullopt
  // refuses, a record is the refresh token to store with it. Runs on the store's writer: no
  // store calls, nothing slow.
  using Redemption =
      std::function<std::optional<RefreshToken>(const AuthorizationCode& code, const Grant& grant)>;
  // In one write transaction, in this order:
  //  1. unknown code, or a code of a revoked grant: kNotFound, nothing written;
  //  2. `decide` refuses (expiry, client, redirect_uri, PKCE): kRefused, nothing written, the
  //     code stays unused: whoever merely saw a code can neither spend it nor revoke the grant
  //     by presenting it with a wrong verifier;
  //  3. a code already used, presented with everything right: kReplayed, and the code's grant
  //     is revoked (RFC 6749 §4.1.2: the authorization server SHOULD revoke all tokens
  //     previously issued based on that authorization code);
  //  4. otherwise the code is marked used and the refresh token `decide` returned is stored
  //     (kRedeemed).
  virtual Result<Redeemed> redeem_code(const std::string& hash, int64_t now,
                                       const Redemption& decide) = 0;
};

}  // namespace stagepass
