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
  auto v = new_opaque_token(rng, kRefreshTokenPrefix);
  ASSERT_EQ(v.size(), 4u + 16 + 43);
  EXPECT_TRUE(v.starts_with("spr_"));
  EXPECT_EQ(v.substr(4, 16).find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(v.substr(20), new_opaque_token(rng, kRefreshTokenPrefix).substr(20));
}

TEST(OpaqueTokenTest, KeysOfLaterValuesSortAfterEarlierOnes) {
  SystemRandom rng;
  std::vector<std::string> keys;
  for (int i = 0; i < 1000; ++i) keys.push_back(code_key(new_opaque_token(rng, kCodePrefix)));
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()).size(), keys.size());
}

TEST(OpaqueTokenTest, KeyIsTimeThenDigestOfTheWholeValue) {
  SystemRandom rng;
  auto v = new_opaque_token(rng, kRefreshTokenPrefix);
  EXPECT_EQ(refresh_token_key(v), v.substr(4, 16) + "." + token_hash(v));
  // Another value with the same time part has another key.
  auto other = v;
  other.back() = other.back() == 'A' ? 'B' : 'A';
  EXPECT_NE(refresh_token_key(other), refresh_token_key(v));
}

TEST(OpaqueTokenTest, OlderValuesAndForeignShapesKeyByTheirDigest) {
  SystemRandom rng;
  auto old = rng.token("spr_");  // the shape issued before ordered keys
  EXPECT_EQ(refresh_token_key(old), token_hash(old));
  // Right length but not hex where the time goes, or another prefix: no ordered key.
  auto v = new_opaque_token(rng, kRefreshTokenPrefix);
  auto upper = v;
  upper[5] = 'G';
  EXPECT_EQ(refresh_token_key(upper), token_hash(upper));
  EXPECT_EQ(code_key(v), token_hash(v));
  EXPECT_EQ(refresh_token_key(""), token_hash(""));
}

}  // namespace
}  // namespace stagepass
