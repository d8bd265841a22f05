#include "tokens/opaque_token.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <vector>

#include "tokens/access_token.hpp"

namespace stagepass {
namespace {

TEST(OpaqueTokenTest, ValuesCarryPrefixTimeAndRandomPart) {
  SystemRandom rng;
  SystemClock clock;
  auto v = new_opaque_token(rng, clock, kRefreshTokenPrefix);
  ASSERT_EQ(v.size(), 4u + 16 + 43);
  EXPECT_TRUE(v.starts_with("spr_"));
  EXPECT_EQ(v.substr(4, 16).find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(v.substr(20), new_opaque_token(rng, clock, kRefreshTokenPrefix).substr(20));
}

TEST(OpaqueTokenTest, KeysOfLaterValuesSortAfterEarlierOnes) {
  SystemRandom rng;
  SystemClock clock;
  std::vector<std::string> keys;
  for (int i = 0; i < 1000; ++i)
    keys.push_back(code_key(new_opaque_token(rng, clock, kCodePrefix)));
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()).size(), keys.size());
}

uint64_t time_part(const std::string& value) {
  return std::stoull(value.substr(4, 16), nullptr, 16);
}

// The time part is the injected clock's, never the system's, and strictly increasing within
// the process even when that clock stands still or steps back.
TEST(OpaqueTokenTest, TimePartComesFromTheInjectedClockAndOnlyIncreases) {
  SystemRandom rng;
  ManualClock clock(4102444800);  // 2100-01-01: later than any value issued before in here
  const uint64_t start = 4102444800ull * 1000000;
  auto first = new_opaque_token(rng, clock, kRefreshTokenPrefix);
  EXPECT_EQ(time_part(first), start);
  auto same_time = new_opaque_token(rng, clock, kRefreshTokenPrefix);
  EXPECT_EQ(time_part(same_time), start + 1);
  clock.advance(-60);  // a step back
  auto stepped_back = new_opaque_token(rng, clock, kCodePrefix);
  EXPECT_EQ(time_part(stepped_back), start + 2);
  clock.advance(3600);
  EXPECT_EQ(time_part(new_opaque_token(rng, clock, kCodePrefix)), start + 3540ull * 1000000);
}

TEST(OpaqueTokenTest, KeyIsTimeThenDigestOfTheWholeValue) {
  SystemRandom rng;
  SystemClock clock;
  auto v = new_opaque_token(rng, clock, kRefreshTokenPrefix);
  EXPECT_EQ(refresh_token_key(v), v.substr(4, 16) + "." + token_hash(v));
  // Another value with the same time part has another key.
  auto other = v;
  other.back() = other.back() == 'A' ? 'B' : 'A';
  EXPECT_NE(refresh_token_key(other), refresh_token_key(v));
}

TEST(OpaqueTokenTest, OlderValuesAndForeignShapesKeyByTheirDigest) {
  SystemRandom rng;
  SystemClock clock;
  auto old = rng.token("spr_");  // the shape issued before ordered keys
  EXPECT_EQ(refresh_token_key(old), token_hash(old));
  // Right length but not hex where the time goes, or another prefix: no ordered key.
  auto v = new_opaque_token(rng, clock, kRefreshTokenPrefix);
  auto upper = v;
  upper[5] = 'G';
  EXPECT_EQ(refresh_token_key(upper), token_hash(upper));
  EXPECT_EQ(code_key(v), token_hash(v));
  EXPECT_EQ(refresh_token_key(""), token_hash(""));
}

// issue17:family. A chain's tokens share their family; each has its generation and digest.
TEST(OpaqueTokenTest, RefreshTokensOfAFamilyShareTheFamilyKey) {
  SystemRandom rng;
  SystemClock clock;
  const std::string family = new_refresh_family(rng, clock);
  ASSERT_EQ(family.size(), 38u);
  const std::string a = new_family_refresh_token(rng, family, 0);
  const std::string b = new_family_refresh_token(rng, family, 0x1a2b3c4d);
  ASSERT_EQ(a.size(), 93u);
  EXPECT_TRUE(a.starts_with("spr_"));
  EXPECT_EQ(
      a.find_first_not_of("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_", 4),
      std::string::npos);
  EXPECT_EQ(b.substr(42, 8), "1a2b3c4d");
  const std::string last = new_family_refresh_token(rng, family, 0xffffffff);
  EXPECT_EQ(refresh_token_family(last)->generation, 0xffffffffu);
  const std::string last_key = refresh_token_key(last);
  EXPECT_EQ(split_family_key(last_key)->generation, 0xffffffffu);
  ASSERT_TRUE(refresh_token_family(a) && refresh_token_family(b));
  EXPECT_EQ(refresh_token_family(a)->family, family);
  EXPECT_EQ(refresh_token_family(a)->generation, 0u);
  EXPECT_EQ(refresh_token_family(b)->generation, 0x1a2b3c4du);
  const std::string key_a = refresh_token_key(a), key_b = refresh_token_key(b);
  const auto ka = split_family_key(key_a);  // views into the keys
  const auto kb = split_family_key(key_b);
  ASSERT_TRUE(ka && kb);
  EXPECT_EQ(ka->family, kb->family);
  EXPECT_EQ(ka->generation, 0u);
  EXPECT_EQ(kb->generation, 0x1a2b3c4du);
  EXPECT_EQ(ka->hash, token_hash(a));
  EXPECT_EQ(kb->hash, token_hash(b));
  // The family key starts with the chain's time part and does not hold the family's secret.
  EXPECT_EQ(ka->family.substr(0, 16), family.substr(0, 16));
  EXPECT_EQ(key_a.find(family.substr(16)), std::string::npos);
  // Another family: another family key.
  const std::string key_other =
      refresh_token_key(new_family_refresh_token(rng, new_refresh_family(rng, clock), 0));
  const auto other = split_family_key(key_other);
  ASSERT_TRUE(other);
  EXPECT_NE(other->family, ka->family);
}

// Only the exact family shape is read as one: other values keep the keys they had.
TEST(OpaqueTokenTest, OnlyTheFamilyShapeHasAFamily) {
  SystemRandom rng;
  SystemClock clock;
  const std::string t = new_family_refresh_token(rng, new_refresh_family(rng, clock), 7);
  auto upper_time = t;
  upper_time[5] = 'G';
  auto not_b64 = t;
  not_b64[30] = '.';
  auto upper_generation = t;
  upper_generation[45] = 'A';
  for (const std::string& v :
       {upper_time, not_b64, upper_generation, t.substr(0, 92), t + "A", "spc_" + t.substr(4),
        new_opaque_token(rng, clock, "spr_"), rng.token("spr_")}) {
    EXPECT_FALSE(refresh_token_family(v)) << v;
    const std::string key = refresh_token_key(v);
    EXPECT_FALSE(split_family_key(key)) << v;
  }
  EXPECT_EQ(refresh_token_key(upper_time), token_hash(upper_time));
  EXPECT_EQ(code_key(t), token_hash(t));  // a refresh token's shape means nothing to codes
  EXPECT_FALSE(split_family_key("r1"));
  EXPECT_FALSE(split_family_key(""));
}

}  // namespace
}  // namespace stagepass
