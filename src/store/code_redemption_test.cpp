// decide_redemption(): every combination of what an exchange can read and be asked, against
// the order docs/architecture.md ("Codes") states: a revoked grant first, then the checks
// (which spend nothing), then replay detection, then the chain's first refresh token.
#include "store/code_redemption.hpp"

#include <gtest/gtest.h>

namespace stagepass {
namespace {

// RFC 7636 Appendix B.
const std::string kChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

Grant grant(bool revoked) {
  Grant g{"g1", "u1", "c1", ScopeSet::parse("streaming user-read-email"), 100, std::nullopt, {}};
  if (revoked) g.revoked_at = 150;
  return g;
}

// A code of grant g1 for c1, issued with the challenge above, valid until 260.
AuthorizationCode code() {
  return {
      "k",        "g1", "c1",        "u1", "https://app.example/cb", ScopeSet::parse("streaming"),
      kChallenge, 260,  std::nullopt};
}

CodePolicy policy(int64_t now) {
  CodePolicy p;
  p.client_id = "c1";
  p.redirect_uri = "https://app.example/cb";
  p.verifier_s256 = kChallenge;
  p.now = now;
  p.refresh_hash = "r1";
  p.refresh_ttl = 1000;
  p.refresh_idle_ttl = 300;
  return p;
}

enum class Verifier { kNone, kRight, kWrong };

struct Case {
  bool grant_revoked;
  bool other_client;
  bool expired;
  bool redirect_differs;
  bool challenge;
  Verifier verifier;
  bool used;
};

// What docs/architecture.md promises, rule by rule, in its order.
RedemptionDecision expected(const Case& c) {
  const auto refused = [](CodeRefusal why) {
    return RedemptionDecision{RedeemOutcome::kRefused, why};
  };
  if (c.grant_revoked) return {RedeemOutcome::kNotFound};
  if (c.other_client) return refused(CodeRefusal::kOtherClient);
  if (c.expired) return refused(CodeRefusal::kExpired);
  if (c.redirect_differs) return refused(CodeRefusal::kRedirectUriMismatch);
  if (c.challenge && c.verifier == Verifier::kNone) return refused(CodeRefusal::kVerifierMissing);
  if (c.challenge && c.verifier == Verifier::kWrong) return refused(CodeRefusal::kVerifierMismatch);
  if (!c.challenge && c.verifier != Verifier::kNone) {
    return refused(CodeRefusal::kVerifierUnexpected);
  }
  if (c.used) return {RedeemOutcome::kReplayed};
  return {RedeemOutcome::kRedeemed};
}

RedemptionDecision decide(const Case& c) {
  AuthorizationCode k = code();
  if (!c.challenge) k.code_challenge.clear();
  if (c.used) k.used_at = 120;
  CodePolicy p = policy(c.expired ? 260 : 259);  // a code is dead at its expiry second
  if (c.other_client) p.client_id = "c2";
  if (c.redirect_differs) p.redirect_uri = "https://app.example/cb/";
  if (c.verifier == Verifier::kNone) p.verifier_s256.reset();
  if (c.verifier == Verifier::kWrong)
    p.verifier_s256 = "F9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
  return decide_redemption(k, grant(c.grant_revoked), p);
}

std::string describe(const Case& c) {
  return "grant_revoked=" + std::to_string(c.grant_revoked) +
         " other_client=" + std::to_string(c.other_client) +
         " expired=" + std::to_string(c.expired) +
         " redirect_differs=" + std::to_string(c.redirect_differs) +
         " challenge=" + std::to_string(c.challenge) +
         " verifier=" + std::to_string(int(c.verifier)) + " used=" + std::to_string(c.used);
}

TEST(DecideRedemption, EveryCombinationFollowsTheDocumentedOrder) {
  int cases = 0;
  for (bool grant_revoked : {false, true})
    for (bool other_client : {false, true})
      for (bool expired : {false, true})
        for (bool redirect_differs : {false, true})
          for (bool challenge : {false, true})
            for (Verifier verifier : {Verifier::kNone, Verifier::kRight, Verifier::kWrong})
              for (bool used : {false, true}) {
                const Case c{grant_revoked, other_client, expired, redirect_differs,
                             challenge,     verifier,     used};
                const RedemptionDecision want = expected(c);
                const RedemptionDecision got = decide(c);
                ASSERT_EQ(got.outcome, want.outcome) << describe(c);
                ASSERT_EQ(got.refusal, want.refusal) << describe(c);
                ASSERT_EQ(got.refresh.has_value(), want.outcome == RedeemOutcome::kRedeemed)
                    << describe(c);
                ++cases;
              }
  EXPECT_EQ(cases, 2 * 2 * 2 * 2 * 2 * 3 * 2);
}

// A used code presented wrongly (by whoever merely saw it) is a refusal, not a replay: it
// must not let that person revoke the grant.
TEST(DecideRedemption, AWrongPresentationOfAUsedCodeIsNotAReplay) {
  AuthorizationCode k = code();
  k.used_at = 120;
  CodePolicy p = policy(200);
  p.verifier_s256 = "F9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
  const RedemptionDecision d = decide_redemption(k, grant(false), p);
  EXPECT_EQ(d.outcome, RedeemOutcome::kRefused);
  EXPECT_EQ(d.refusal, CodeRefusal::kVerifierMismatch);
}

TEST(DecideRedemption, TheFirstRefreshTokenStartsAFullChain) {
  const RedemptionDecision d = decide_redemption(code(), grant(false), policy(200));
  ASSERT_EQ(d.outcome, RedeemOutcome::kRedeemed);
  ASSERT_TRUE(d.refresh);
  const RefreshToken& r = *d.refresh;
  EXPECT_EQ(r.hash, "r1");
  EXPECT_EQ(r.grant_id, "g1");
  EXPECT_EQ(r.client_id, "c1");
  EXPECT_EQ(r.user_id, "u1");
  EXPECT_EQ(r.scope.str(), "streaming");  // the code's scope, not the whole grant's
  EXPECT_EQ(r.created_at, 200);
  EXPECT_EQ(r.expires_at, 1200);
  EXPECT_EQ(r.idle_expires_at, 500);
  CodePolicy long_idle = policy(200);
  long_idle.refresh_idle_ttl = 5000;  // capped by the absolute end
  EXPECT_EQ(decide_redemption(code(), grant(false), long_idle).refresh->idle_expires_at, 1200);
}

}  // namespace
}  // namespace stagepass
