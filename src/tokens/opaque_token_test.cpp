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

}  // namespace
}  // namespace stagepass
