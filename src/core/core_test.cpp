#include <gtest/gtest.h>

#include "core/base64url.hpp"
#include "core/random.hpp"
#include "core/text.hpp"

namespace stagepass {
namespace {

TEST(Base64Url, RoundTripsWithoutPadding) {
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(*base64url_decode("-_8"), "\xfb\xff");
  EXPECT_EQ(*base64url_decode("-_8="), "\xfb\xff");
  EXPECT_FALSE(base64url_decode("a+b/").has_value());
}

TEST(Form, KeepsDuplicatesAndTreatsEmptyAsAbsent) {
  auto form = Form::parse("a=1&b=&a=2&c=x%20y+z");
  ASSERT_TRUE(form);
  EXPECT_EQ(form->get("a"), "1");
  EXPECT_FALSE(form->get("b").has_value());
  EXPECT_EQ(form->get("c"), "x y z");
  EXPECT_EQ(form->duplicate(), "a");
  EXPECT_FALSE(Form::parse("a=%zz"));
  EXPECT_FALSE(Form::parse("a=%4"));
}

TEST(PercentEncoding, EncodesReservedCharacters) {
  EXPECT_EQ(percent_encode("a b/c?d"), "a%20b%2Fc%3Fd");
  EXPECT_EQ(*percent_decode("a%2Bb+c", false), "a+b+c");
}

TEST(Random, TokensHavePrefixAndEntropy) {
  SystemRandom rng;
  auto t = rng.token("spr_");
  EXPECT_EQ(t.rfind("spr_", 0), 0u);
  EXPECT_EQ(t.size(), 4u + 43u);
  EXPECT_NE(t, rng.token("spr_"));
  auto id = rng.id22();
  EXPECT_EQ(id.size(), 22u);
}

}  // namespace
}  // namespace stagepass
