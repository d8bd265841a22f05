// Refresh-token rotation as a decision (RFC 6749 §6, RFC 9700 §4.14.2): what a store does with
// a presented refresh token, as a pure function of what its write transaction read and of the
// refresh_token grant's policy, a value. Every backend calls decide_rotation() inside
// RefreshTokenStore::rotate_refresh_token and only carries the decision out, so the order
// "reuse detection before policy checks" is written here once and tested without a database
// (refresh_rotation_test.cpp). docs/security.md, "Refresh token reuse".
// Pure functions and plain values: thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "domain/models.hpp"

namespace stagepass {

// What the refresh_token grant asks of a rotation.
struct RefreshPolicy {
  std::string client_id;  // the authenticated client
  int64_t now = 0;
  // A rotated token's own client may retry it once, this long after the rotation (it lost the
  // response); 0 closes the window.
  int64_t grace_seconds = 0;
  // RFC 6749 §6: "The requested scope MUST NOT include any scope not originally granted by the
  // resource owner". nullopt: none requested (the token's scope).
  std::optional<ScopeSet> requested_scope;
  // The successor's storage key, and its idle lifetime counted from `now`. It keeps the
  // presented token's scope (RFC 6749 §6: a new refresh token's scope MUST be identical) and
  // its chain's absolute expiry.
  std::string successor_hash;
  int64_t idle_ttl = 0;
  // issue15:devmode. The client is in development mode: when a successor is stored, the same
  // write also reads whether the token's person is on the client's allowlist now
  // (Rotation::on_allowlist), so each refresh reflects the current list.
  bool read_allowlist = false;
};

// What happened to a refresh token presented for rotation.
enum class RotateOutcome {
  kRotated,       // the old token is spent, the successor stored
  kNotFound,      // unknown, or its grant is revoked
  kRefused,       // the policy refused it (RefreshRefusal says why): nothing written
  kReuseGrace,    // its own client's first retry inside the grace window: successor stored,
                  // the earlier (still unused) successor superseded
  kReuseRevoked,  // reuse: the whole grant is revoked
};

// Why the policy refused a live token. The token stays usable by its holder.
enum class RefreshRefusal {
  kNone,
  kOtherClient,  // RFC 6749 §6: issued to another client (only a live token: a spent one is reuse)
  kExpired,      // past its chain's absolute end or its idle end
  kScopeExceeded,  // asks for a scope the token does not hold
};

// A presented token as the write read it: the record, and what its chain did since.
struct PresentedRefreshToken {
  RefreshToken token;    // `revoked`: superseded by a grace retry (not the grant's revocation)
  bool retried = false;  // rotated, then retried once inside the grace window already
  // Its latest successor is neither rotated nor superseded. Needed only when token.rotated_at
  // is set (a store may leave it false otherwise).
  bool successor_unused = false;
};

struct RotationDecision {
  RotateOutcome outcome = RotateOutcome::kNotFound;
  RefreshRefusal refusal = RefreshRefusal::kNone;  // set when kRefused
  std::optional<RefreshToken> successor{};         // to store when kRotated or kReuseGrace
};

// Decides, in this order:
//  1. the grant is revoked: kNotFound (its tokens are as good as unknown);
//  2. reuse detection, before any policy check (RFC 9700 §4.14.2): a spent token - rotated, or
//     superseded by a grace retry - presented again is kReuseRevoked, unless it is the first
//     retry of a rotated token, by the client it was issued to, less than grace_seconds after
//     its rotation, while its successor is unused. So a spent token presented by another
//     client is reuse, never a mere refusal: it cannot keep a leaked chain alive;
//  3. the policy: another client's live token (kOtherClient), past its absolute or idle end
//     (kExpired), a wider scope (kScopeExceeded): kRefused;
//  4. otherwise the successor (kReuseGrace for the retry, else kRotated): `grant`'s ids, the
//     presented token's scope and absolute expiry, created now, idle until
//     min(absolute expiry, now + idle_ttl).
// What the store writes for each outcome: rotate_refresh_token (store.hpp).
// A refresh token of `grant`'s chain issued at `now`, stored under `hash`: it ends at the
// chain's absolute end `expires_at`, or after `idle_ttl` seconds unused, whichever is first.
// The code exchange starts a chain with it, and every rotation continues it.
RefreshToken chain_refresh_token(std::string hash, const Grant& grant, ScopeSet scope, int64_t now,
                                 int64_t expires_at, int64_t idle_ttl);

RotationDecision decide_rotation(const PresentedRefreshToken& presented, const Grant& grant,
                                 const RefreshPolicy& policy);

// What rotate_refresh_token answers: the outcome, why it was refused, and the token and its
// grant as the write read them (empty when unknown), so the caller names the person and app
// in an audit event and in the access token whatever the outcome.
struct Rotation {
  RotateOutcome outcome = RotateOutcome::kNotFound;
  RefreshRefusal refusal = RefreshRefusal::kNone;
  RefreshToken token;
  Grant grant;
  // issue15:devmode. kRotated or kReuseGrace with RefreshPolicy::read_allowlist: the token's
  // person is on the client's allowlist, as the write read it. false otherwise.
  bool on_allowlist = false;
};

}  // namespace stagepass
