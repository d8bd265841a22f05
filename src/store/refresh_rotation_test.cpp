// decide_rotation(): every combination of what a rotation can read and be asked, against the
// order docs/security.md ("Refresh token reuse") states: a revoked grant first, then reuse
// detection, then the policy (client, expiry, scope), then the successor.
#include "store/refresh_rotation.hpp"

#include <gtest/gtest.h>

namespace stagepass {
namespace {

constexpr int64_t kRotatedAt = 1000;
constexpr int64_t kGrace = 10;

Grant grant(bool revoked) {
  Grant g{"g1", "u1", "c1", ScopeSet::parse("streaming user-read-email"), 100, std::nullopt, {}};
  if (revoked) g.revoked_at = 900;
  return g;
}

// The token as a store reads it: issued at 500 to c1, expiring at 5000 (idle 4000).
PresentedRefreshToken presented() {
  PresentedRefreshToken p;
  p.token = {"old", "g1", "c1", "u1",         ScopeSet::parse("streaming user-read-email"),
             500,   5000, 4000, std::nullopt, false};
  return p;
}

RefreshPolicy policy(int64_t now) {
  RefreshPolicy p;
  p.client_id = "c1";
  p.now = now;
  p.grace_seconds = kGrace;
  p.successor_hash = "new";
  p.idle_ttl = 300;
  return p;
}

enum class Chain { kLive, kRotated, kSuperseded };
enum class Age { kInsideGrace, kAtGraceEnd };
enum class Expiry { kLive, kIdleEnd, kAbsoluteEnd };
enum class Scope { kNone, kNarrower, kWider };

struct Case {
  bool grant_revoked;
  Chain chain;
  bool retried;
  bool successor_unused;
  Age age;
  bool grace_off;
  bool other_client;
  Expiry expiry;
  Scope scope;
};

// What docs/security.md promises, rule by rule, in its order.
RotationDecision expected(const Case& c) {
  if (c.grant_revoked) return {RotateOutcome::kNotFound};
  const bool spent = c.chain != Chain::kLive;
  const bool grace_retry = c.chain == Chain::kRotated && !c.retried && c.successor_unused &&
                           c.age == Age::kInsideGrace && !c.grace_off && !c.other_client;
  if (spent && !grace_retry) return {RotateOutcome::kReuseRevoked};
  if (c.other_client) return {RotateOutcome::kRefused, RefreshRefusal::kOtherClient};
  if (c.expiry != Expiry::kLive) return {RotateOutcome::kRefused, RefreshRefusal::kExpired};
  if (c.scope == Scope::kWider) return {RotateOutcome::kRefused, RefreshRefusal::kScopeExceeded};
  return {grace_retry ? RotateOutcome::kReuseGrace : RotateOutcome::kRotated};
}

RotationDecision decide(const Case& c) {
  PresentedRefreshToken p = presented();
  if (c.chain == Chain::kRotated) p.token.rotated_at = kRotatedAt;
  if (c.chain == Chain::kSuperseded) p.token.revoked = true;
  p.retried = c.retried;
  p.successor_unused = c.successor_unused;
  // The token's idle end (4000) comes before its absolute end (5000); the grace window is
  // measured from kRotatedAt. Moving the idle end puts "now" past one end and not the other.
  int64_t now = c.age == Age::kInsideGrace ? kRotatedAt + kGrace - 1 : kRotatedAt + kGrace;
  if (c.expiry == Expiry::kIdleEnd) p.token.idle_expires_at = now;
  if (c.expiry == Expiry::kAbsoluteEnd) p.token.expires_at = now;
  RefreshPolicy pol = policy(now);
  if (c.grace_off) pol.grace_seconds = 0;
  if (c.other_client) pol.client_id = "c2";
  if (c.scope == Scope::kNarrower) pol.requested_scope = ScopeSet::parse("streaming");
  if (c.scope == Scope::kWider) pol.requested_scope = ScopeSet::parse("streaming user-top-read");
  return decide_rotation(p, grant(c.grant_revoked), pol);
}

std::string describe(const Case& c) {
  return "grant_revoked=" + std::to_string(c.grant_revoked) +
         " chain=" + std::to_string(int(c.chain)) + " retried=" + std::to_string(c.retried) +
         " successor_unused=" + std::to_string(c.successor_unused) +
         " age=" + std::to_string(int(c.age)) + " grace_off=" + std::to_string(c.grace_off) +
         " other_client=" + std::to_string(c.other_client) +
         " expiry=" + std::to_string(int(c.expiry)) + " scope=" + std::to_string(int(c.scope));
}

TEST(DecideRotation, EveryCombinationFollowsTheDocumentedOrder) {
  int cases = 0;
  for (bool grant_revoked : {false, true})
    for (Chain chain : {Chain::kLive, Chain::kRotated, Chain::kSuperseded})
      for (bool retried : {false, true})
        for (bool successor_unused : {false, true})
          for (Age age : {Age::kInsideGrace, Age::kAtGraceEnd})
            for (bool grace_off : {false, true})
              for (bool other_client : {false, true})
                for (Expiry expiry : {Expiry::kLive, Expiry::kIdleEnd, Expiry::kAbsoluteEnd})
                  for (Scope scope : {Scope::kNone, Scope::kNarrower, Scope::kWider}) {
                    const Case c{grant_revoked, chain,  retried, successor_unused, age, grace_off,
                                 other_client,  expiry, scope};
                    const RotationDecision want = expected(c);
                    const RotationDecision got = decide(c);
                    ASSERT_EQ(got.outcome, want.outcome) << describe(c);
                    ASSERT_EQ(got.refusal, want.refusal) << describe(c);
                    const bool stores = want.outcome == RotateOutcome::kRotated ||
                                        want.outcome == RotateOutcome::kReuseGrace;
                    ASSERT_EQ(got.successor.has_value(), stores) << describe(c);
                    ++cases;
                  }
  EXPECT_EQ(cases, 2 * 3 * 2 * 2 * 2 * 2 * 2 * 3 * 3);
}

// The cases a reader of docs/security.md looks for first, spelled out.
TEST(DecideRotation, ASpentTokenIsReuseWhateverThePolicyWouldSay) {
  PresentedRefreshToken p = presented();
  p.token.rotated_at = kRotatedAt;
  p.successor_unused = true;
  RefreshPolicy other = policy(kRotatedAt + 1);  // inside the window, but another client,
  other.client_id = "c2";
  other.requested_scope = ScopeSet::parse("user-top-read");  // a wider scope,
  p.token.expires_at = kRotatedAt;                           // and expired
  EXPECT_EQ(decide_rotation(p, grant(false), other).outcome, RotateOutcome::kReuseRevoked);
  // Its own client's second retry inside the window is reuse too.
  p.token.expires_at = 5000;
  p.retried = true;
  EXPECT_EQ(decide_rotation(p, grant(false), policy(kRotatedAt + 1)).outcome,
            RotateOutcome::kReuseRevoked);
}

TEST(DecideRotation, ALiveTokenOfAnotherClientIsRefusedNotReuse) {
  RefreshPolicy other = policy(600);
  other.client_id = "c2";
  const RotationDecision d = decide_rotation(presented(), grant(false), other);
  EXPECT_EQ(d.outcome, RotateOutcome::kRefused);
  EXPECT_EQ(d.refusal, RefreshRefusal::kOtherClient);
}

TEST(DecideRotation, TheSuccessorKeepsTheScopeAndTheChainsAbsoluteEnd) {
  RefreshPolicy p = policy(600);
  p.requested_scope = ScopeSet::parse("streaming");  // narrows the access token only
  const RotationDecision d = decide_rotation(presented(), grant(false), p);
  ASSERT_EQ(d.outcome, RotateOutcome::kRotated);
  ASSERT_TRUE(d.successor);
  const RefreshToken& s = *d.successor;
  EXPECT_EQ(s.hash, "new");
  EXPECT_EQ(s.grant_id, "g1");
  EXPECT_EQ(s.client_id, "c1");
  EXPECT_EQ(s.user_id, "u1");
  EXPECT_EQ(s.scope.str(), "streaming user-read-email");
  EXPECT_EQ(s.created_at, 600);
  EXPECT_EQ(s.expires_at, 5000);      // the chain's, not now + a lifetime
  EXPECT_EQ(s.idle_expires_at, 900);  // now + idle_ttl
  EXPECT_FALSE(s.rotated_at.has_value());
  EXPECT_FALSE(s.revoked);
  // Near the chain's end the idle end is capped by it.
  PresentedRefreshToken late = presented();
  late.token.idle_expires_at = 4950;
  const RotationDecision near_end = decide_rotation(late, grant(false), policy(4900));
  ASSERT_TRUE(near_end.successor);
  EXPECT_EQ(near_end.successor->idle_expires_at, 5000);
}

}  // namespace
}  // namespace stagepass
