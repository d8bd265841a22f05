// Authorization-code redemption as a decision (RFC 6749 §4.1.3, RFC 7636 §4.6): what a store
// does with a code presented at the token endpoint, as a pure function of what its write
// transaction read and of the authorization_code grant's policy, a value. Every backend calls
// decide_redemption() inside CodeStore::redeem_code and only carries the decision out, so the
// order "checks before replay detection" is written here once and tested without a database
// (code_redemption_test.cpp).
// Pure functions and plain values: thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "domain/models.hpp"

namespace stagepass {

// What the authorization_code grant asks of an exchange.
struct CodePolicy {
  std::string client_id;     // the authenticated client
  std::string redirect_uri;  // as sent to the token endpoint
  // base64url(SHA-256(code_verifier)) of the verifier the client sent (RFC 7636 §4.6),
  // computed before the write; nullopt when it sent none. Compared in constant time.
  std::optional<std::string> verifier_s256;
  int64_t now = 0;
  // The refresh token that starts the chain: its storage key, and its absolute and idle
  // lifetimes counted from `now`.
  std::string refresh_hash;
  int64_t refresh_ttl = 0;
  int64_t refresh_idle_ttl = 0;
  // issue15:devmode. The client is in development mode: when the code is redeemed, the same
  // write also reads whether its person is on the client's allowlist (Redeemed::on_allowlist).
  bool read_allowlist = false;
};

// What happened to an authorization code presented for exchange.
enum class RedeemOutcome {
  kRedeemed,  // the code is spent, the refresh token stored
  kNotFound,  // unknown, or its grant is revoked
  kRefused,   // a check failed (CodeRefusal says which): nothing written, the code stays unused
  kReplayed,  // a used code presented with everything right: the grant is revoked
};

// Why a presentation was refused.
enum class CodeRefusal {
  kNone,
  kOtherClient,          // RFC 6749 §4.1.3: issued to another client
  kExpired,              // past its expiry
  kRedirectUriMismatch,  // RFC 6749 §4.1.3: not identical to the authorization request's
  kVerifierMissing,      // RFC 7636 §4.5: the code has a challenge, the request no verifier
  kVerifierMismatch,     // RFC 7636 §4.6: S256(verifier) is not the challenge
  kVerifierUnexpected,   // RFC 9700 §4.8.2: a verifier without a challenge (PKCE downgrade)
};

struct RedemptionDecision {
  RedeemOutcome outcome = RedeemOutcome::kNotFound;
  CodeRefusal refusal = CodeRefusal::kNone;  // set when kRefused
  std::optional<RefreshToken> refresh{};     // to store when kRedeemed
};

// Decides, in this order:
//  1. the grant is revoked: kNotFound (its unused codes are as good as unknown);
//  2. the checks, first (client, then expiry, redirect_uri, PKCE): kRefused. A presentation
//     that fails them spends nothing and revokes nothing, used code or not: whoever merely
//     saw a code (a referrer, a log, a browser history) can neither spend it nor revoke the
//     person's grant by presenting it with a wrong verifier;
//  3. a code already used, presented with everything right: kReplayed (RFC 6749 §4.1.2: the
//     authorization server SHOULD revoke all tokens previously issued based on that code);
//  4. otherwise kRedeemed, with the chain's first refresh token: `grant`'s ids, the code's
//     scope, created now, absolute end now + refresh_ttl, idle end
//     min(absolute end, now + refresh_idle_ttl).
// What the store writes for each outcome: redeem_code (store.hpp).
RedemptionDecision decide_redemption(const AuthorizationCode& code, const Grant& grant,
                                     const CodePolicy& policy);

// What redeem_code answers: the outcome, why it was refused, and the code and its grant as the
// write read them (empty when unknown), for the access token and the audit event.
struct Redeemed {
  RedeemOutcome outcome = RedeemOutcome::kNotFound;
  CodeRefusal refusal = CodeRefusal::kNone;
  AuthorizationCode code;
  Grant grant;
  // issue15:devmode. kRedeemed with CodePolicy::read_allowlist: the code's person is on the
  // client's allowlist, as the write read it. false otherwise.
  bool on_allowlist = false;
};

}  // namespace stagepass
