#include "tokens/key_schedule.hpp"

#include <gtest/gtest.h>

#include "tokens/keyring.hpp"

namespace stagepass {
namespace {

// Tokens live 3600 s, verifiers allow 10 s of skew, the JWKS is cached 300 s.
const KeyPolicy kPolicy{3610, 300};

SigningKey key(const std::string& kid, int64_t signs_from, int64_t retire_at = 0) {
  return {kid, "EdDSA", std::string(32, 'p'), "sealed", signs_from, signs_from, retire_at};
}

std::vector<std::string> names(const std::vector<SigningKey>& keys, int64_t now) {
  std::vector<std::string> out;
  for (auto s : key_states(keys, now)) out.emplace_back(key_state_name(s));
  return out;
}

TEST(KeySchedule, ARotationPublishesTheNextKeyAheadAndRetiresTheOldOneAfterItsTokens) {
  std::vector<SigningKey> keys{key("a", 100)};
  EXPECT_EQ(names(keys, 200), (std::vector<std::string>{"active"}));

  auto plan = plan_rotation(keys, 200, 600, kPolicy);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  // Signs once the publish-ahead (and the servers' one-second pickup) has passed...
  EXPECT_EQ(plan->signs_from, 200 + 600 + kKeyPickupSeconds);
  // ...and the old key stays published until its last token expired (plus skew) and every
  // JWKS copy without the new key went stale.
  EXPECT_EQ(plan->predecessor_retire_at, plan->signs_from + 3610 + 300);

  keys[0].retire_at = plan->predecessor_retire_at;
  keys.push_back(key("b", plan->signs_from));
  const int64_t s = plan->signs_from, r = plan->predecessor_retire_at;
  EXPECT_EQ(names(keys, 200), (std::vector<std::string>{"active", "next"}));
  EXPECT_EQ(names(keys, s - 1), (std::vector<std::string>{"active", "next"}));
  EXPECT_EQ(names(keys, s), (std::vector<std::string>{"retiring", "active"}));
  EXPECT_EQ(names(keys, r - 1), (std::vector<std::string>{"retiring", "active"}));
  EXPECT_EQ(names(keys, r), (std::vector<std::string>{"retired", "active"}));

  EXPECT_EQ(next_key_change(keys, 200), s);
  EXPECT_EQ(next_key_change(keys, s), r);
  EXPECT_EQ(next_key_change(keys, r), std::nullopt);
}

TEST(KeySchedule, RefusesAPublishAheadShorterThanTheJwksMaxAge) {
  std::vector<SigningKey> keys{key("a", 100)};
  auto plan = plan_rotation(keys, 200, 299, kPolicy);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.error().code, ErrorCode::kInvalid);
  EXPECT_NE(plan.error().message.find("STAGEPASS_JWKS_MAX_AGE=300"), std::string::npos)
      << plan.error().message;
  EXPECT_NE(plan.error().message.find("at least 5m"), std::string::npos) << plan.error().message;
  EXPECT_TRUE(plan_rotation(keys, 200, 300, kPolicy).ok());
}

TEST(KeySchedule, OneNextKeyAtATime) {
  std::vector<SigningKey> keys{key("a", 100, 5000), key("b", 1000)};
  auto plan = plan_rotation(keys, 500, 600, kPolicy);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.error().code, ErrorCode::kConflict);
  EXPECT_NE(plan.error().message.find("b"), std::string::npos);
  EXPECT_TRUE(plan_rotation(keys, 1000, 600, kPolicy).ok());  // once b signs
}

TEST(KeySchedule, TheFirstKeySignsAtOnce) {
  auto plan = plan_rotation({}, 200, 600, kPolicy);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->signs_from, 200);
}

TEST(KeySchedule, SomeKeyAlwaysSignsEvenWithTheClockSetBack) {
  std::vector<SigningKey> keys{key("a", 100, 9000), key("b", 1000)};
  EXPECT_EQ(names(keys, 50), (std::vector<std::string>{"active", "next"}));
}

TEST(KeySchedule, ScheduledRotationIsDueOnePublishAheadAndOneTickBeforeThePeriodEnds) {
  const int64_t period = 90 * 86400;
  const int64_t lead = kPolicy.default_publish_ahead() + kKeyPickupSeconds;  // 601 s
  std::vector<SigningKey> keys{key("a", 0)};
  EXPECT_EQ(scheduled_rotation(keys, period - lead - kKeyPickupSeconds - 1, period, kPolicy),
            std::nullopt);
  // Due one tick early, so that the tick after it, or a tick a second late, still plans the
  // same start: the active key signs for exactly one period.
  for (int64_t now : {period - lead - kKeyPickupSeconds, period - lead}) {
    auto due = scheduled_rotation(keys, now, period, kPolicy);
    ASSERT_TRUE(due) << now;
    EXPECT_EQ(due->signs_from, period) << now;
    EXPECT_EQ(due->predecessor_retire_at, period + kPolicy.retention()) << now;
  }
  // Two seconds late: the next key still gets its whole publish-ahead.
  auto later = scheduled_rotation(keys, period - lead + 1, period, kPolicy);
  ASSERT_TRUE(later);
  EXPECT_EQ(later->signs_from, period + 1);
  // A server that was down when it was due: the next key still gets its whole publish-ahead.
  auto late = scheduled_rotation(keys, period + 1000, period, kPolicy);
  ASSERT_TRUE(late);
  EXPECT_EQ(late->signs_from, period + 1000 + lead);
  // Not while a next key waits, nor without a period.
  keys.push_back(key("b", period));
  EXPECT_EQ(scheduled_rotation(keys, period - 10, period, kPolicy), std::nullopt);
  EXPECT_EQ(scheduled_rotation({key("a", 0)}, period, 0, kPolicy), std::nullopt);
}

TEST(Keyring, SwitchesAtSignsFromAndUnpublishesAtRetireAt) {
  Keyring ring({{"a", "EdDSA", std::string(32, 'a'), Secret("sa"), 100, 5000},
                {"b", "EdDSA", std::string(32, 'b'), Secret("sb"), 1000}});
  EXPECT_EQ(ring.signing_key(999).kid, "a");
  EXPECT_EQ(ring.signing_key(1000).kid, "b");
  auto jwks = [&](int64_t now) { return ring.jwks_json(now); };
  // Next key published before it signs, newest first; the retiring one until retire_at.
  EXPECT_NE(jwks(500).find("\"kid\":\"b\""), std::string::npos);
  EXPECT_LT(jwks(500).find("\"kid\":\"b\""), jwks(500).find("\"kid\":\"a\""));
  EXPECT_NE(jwks(4999).find("\"kid\":\"a\""), std::string::npos);
  EXPECT_EQ(jwks(5000).find("\"kid\":\"a\""), std::string::npos);
  EXPECT_NE(jwks(5000).find("\"kid\":\"b\""), std::string::npos);
  // Verification still finds every key it holds.
  EXPECT_TRUE(ring.find("a"));
}

}  // namespace
}  // namespace stagepass
